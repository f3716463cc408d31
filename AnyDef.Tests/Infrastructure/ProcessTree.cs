using System.Globalization;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>What runs below a process, read from /proc: never other developers' or other runs' processes.</summary>
public static class ProcessTree
{
    /// <summary>The live Deno processes descended from this process whose command line contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> DenoDescendants(string marker)
    {
        var (parents, names) = Read();
        return [.. names.Where(kv => kv.Value == "deno" && Under(parents, kv.Key, Environment.ProcessId) && CommandLine(kv.Key).Contains(marker, StringComparison.Ordinal)).Select(kv => kv.Key)];
    }

    /// <summary>Live descendants of <paramref name="root"/> whose command line contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> Descendants(int root, string marker)
    {
        var (parents, _) = Read();
        return [.. parents.Keys.Where(pid => Under(parents, pid, root) && CommandLine(pid).Contains(marker, StringComparison.Ordinal))];
    }

    /// <summary>Whether a process with this id is alive (not ended, not a zombie).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static (Dictionary<int, int> Parents, Dictionary<int, string> Names) Read()
    {
        var parents = new Dictionary<int, int>();
        var names = new Dictionary<int, string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // The command name is in parentheses and may hold spaces; the fields after it are: state, ppid, ...
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                if (fields[0] is "Z" or "X") continue; // it has ended
                parents[pid] = int.Parse(fields[1], CultureInfo.InvariantCulture);
                names[pid] = stat[(stat.IndexOf('(') + 1)..close];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }

        return (parents, names);
    }

    private static bool Under(Dictionary<int, int> parents, int pid, int root)
    {
        for (var p = pid; parents.TryGetValue(p, out var parent) && p != 1; p = parent)
        {
            if (parent == root) return true;
        }

        return false;
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
