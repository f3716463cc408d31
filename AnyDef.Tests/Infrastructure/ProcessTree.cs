namespace AnyDefNet.Tests.Infrastructure;

/// <summary>What runs below this test process, read from /proc: never other developers' or other runs' processes.</summary>
public static class ProcessTree
{
    /// <summary>The live Deno processes descended from this process whose command line contains <paramref name="marker"/>.</summary>
    public static IReadOnlyList<int> DenoDescendants(string marker)
    {
        var parents = new Dictionary<int, int>();
        var names = new Dictionary<int, string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                if (fields[0] == "Z") continue; // a zombie has ended
                parents[pid] = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
                names[pid] = stat[(stat.IndexOf('(') + 1)..close];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // The process ended while we looked.
            }
        }

        var self = Environment.ProcessId;
        bool Descends(int pid)
        {
            for (var p = pid; parents.TryGetValue(p, out var parent) && p != 1; p = parent)
            {
                if (parent == self) return true;
            }

            return false;
        }

        return [.. names.Where(kv => kv.Value == "deno" && Descends(kv.Key) && CommandLine(kv.Key).Contains(marker, StringComparison.Ordinal)).Select(kv => kv.Key)];
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
