using System.Globalization;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Reads the process tree from /proc: only descendants of one process count, never other processes on the machine.</summary>
public static class ProcessTree
{
    /// <summary>Live descendants of <paramref name="root"/> whose command line contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> Descendants(int root, string marker)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // The command name is in parentheses and may hold spaces; the fields after it are: state, ppid, ...
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] is "Z" or "X") continue;
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
            }
        }

        bool Under(int pid)
        {
            for (var p = pid; parents.TryGetValue(p, out var parent) && p != 1; p = parent)
            {
                if (parent == root) return true;
            }

            return false;
        }

        return [.. parents.Keys.Where(Under).Where(pid => CommandLine(pid).Contains(marker, StringComparison.Ordinal))];
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }
}
