using System.Globalization;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// A memory cgroup for one host process, created below this process's own cgroup (so every limit above still holds),
/// where the operating system lets us: the kernel then ends a host whose memory, JavaScript allocations included,
/// passes the budget. Best effort: where cgroups are not writable, the host's own checks remain.
/// </summary>
internal sealed class MemoryCgroup
{
    private static readonly Lazy<(string Dir, bool V2)?> s_parent = new(FindParent);
    private readonly string _dir;
    private readonly bool _v2;

    private MemoryCgroup(string dir, bool v2)
    {
        _dir = dir;
        _v2 = v2;
    }

    public string Directory => _dir;

    public static MemoryCgroup? TryCreate(int pid, long limitBytes)
    {
        if (!OperatingSystem.IsLinux() || s_parent.Value is not var (parent, v2)) return null;
        var dir = Path.Combine(parent, $"anydef-{Environment.ProcessId}-{pid}");
        try
        {
            System.IO.Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, v2 ? "memory.max" : "memory.limit_in_bytes"), limitBytes.ToString(CultureInfo.InvariantCulture));
            if (!v2) TryWrite(Path.Combine(dir, "memory.memsw.limit_in_bytes"), limitBytes.ToString(CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            return new MemoryCgroup(dir, v2);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryRemove(dir);
            return null;
        }
    }

    /// <summary>Whether the kernel ended a process of this group for exceeding its limit.</summary>
    public bool OutOfMemory
    {
        get
        {
            try
            {
                var events = File.ReadAllLines(Path.Combine(_dir, _v2 ? "memory.events" : "memory.oom_control"));
                return events.Any(l => l.StartsWith("oom_kill ", StringComparison.Ordinal) && l[9..].Trim() != "0");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }
    }

    /// <summary>Moves one more process into the group (a host's own child, where a wrapper started it).</summary>
    public void Join(int pid) => TryWrite(Path.Combine(_dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Removes the group; the kernel allows it once its processes have ended.</summary>
    public void Remove() => TryRemove(_dir);

    private static void TryRemove(string dir)
    {
        try { System.IO.Directory.Delete(dir); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryWrite(string path, string text)
    {
        try { File.WriteAllText(path, text); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Removes the groups of applications that have ended (the first use sweeps too).</summary>
    public static void Sweep()
    {
        if (!OperatingSystem.IsLinux() || s_parent.Value is not var (parent, _)) return;
        try { SweepStale(parent); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // Groups outlive an application that ended without disposing its sandbox; the next one clears them away.
    private static void SweepStale(string parent)
    {
        foreach (var dir in System.IO.Directory.EnumerateDirectories(parent, "anydef-*"))
        {
            var owner = Path.GetFileName(dir).Split('-');
            if (owner.Length == 3 && int.TryParse(owner[1], out var pid) && pid != Environment.ProcessId && !IsRunning(pid)) TryRemove(dir);
        }
    }

    private static bool IsRunning(int pid) => System.IO.Directory.Exists($"/proc/{pid}");

    private static (string, bool)? FindParent()
    {
        var found = FindParentDirectory();
        if (found is var (dir, _))
        {
            try { SweepStale(dir); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        return found;
    }

    private static (string, bool)? FindParentDirectory()
    {
        try
        {
            foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
            {
                var parts = line.Split(':', 3);
                if (parts.Length != 3) continue;
                if (parts[1].Split(',').Contains("memory"))
                {
                    var v1 = "/sys/fs/cgroup/memory" + parts[2];
                    if (System.IO.Directory.Exists(v1)) return (v1, false);
                }
                else if (parts[0] == "0" && parts[1].Length == 0)
                {
                    var v2 = "/sys/fs/cgroup" + parts[2];
                    if (File.Exists(Path.Combine(v2, "cgroup.subtree_control")) &&
                        File.ReadAllText(Path.Combine(v2, "cgroup.subtree_control")).Split(' ', '\n').Contains("memory"))
                    {
                        return (v2, true);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
