using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Sandbox.Internal;

// No work outside a call: Python reaches JavaScript and can leave a timer or a nested worker running after its call
// returned, and a call that says "ok" proves nothing about that. So the library judges a host from outside, by the
// kernel's own accounting of the process, and ends a host that keeps a core busy with no call running. The measure is
// CPU demand: time on a CPU plus time waiting in the run queue (Linux schedstat), so a busy host is seen as busy even
// on a machine so loaded that it gets only a sliver of a core; elsewhere it is the CPU time alone.
internal sealed partial class HostProcess
{
    // A host is idle when no request of it is in flight; one that uses more than this share of a core over an idle
    // window is ended. Garbage collection after a call stays far below it; a busy timer or worker uses all of it.
    private const double IdleCpuShare = 0.5;
    private static readonly TimeSpan IdleWindow = TimeSpan.FromSeconds(1);
    // A host is judged on consecutive windows: after calls, V8's background compilation and garbage collection can
    // want a core for a moment (and on a loaded machine wait long in the run queue), but only work left running
    // wants it window after window.
    private const int BusyWindowsToEnd = 3;
    private int _busyWindows;
    // Zero until the first request: a spare runs no untrusted code, and its runtime may still be compiling in the background.
    private long _lastSend;
    private long _idleSince;
    private TimeSpan _idleCpu;

    private void WatchCpu()
    {
        if (InFlight > 0 || _deathReason is not null || Volatile.Read(ref _lastSend) == 0)
        {
            _idleSince = 0;
            _busyWindows = 0;
            return;
        }

        var now = Environment.TickCount64;
        if (CpuDemand(ProcessId) is not { } cpu) return;
        if (_idleSince == 0 || Volatile.Read(ref _lastSend) >= _idleSince)
        {
            _idleSince = now;
            _idleCpu = cpu;
            _busyWindows = 0;
            return;
        }

        var idle = TimeSpan.FromMilliseconds(now - _idleSince);
        if (idle < IdleWindow) return;
        var used = cpu - _idleCpu;
        _busyWindows = used > idle * IdleCpuShare ? _busyWindows + 1 : 0;
        if (_busyWindows >= BusyWindowsToEnd)
        {
            _logger.LogWarning("Sandbox host {Pid} wanted {Cpu:0} ms of CPU in {Idle:0} ms with no call running (a timer or worker left behind by the code); it was ended and will be replaced.",
                ProcessId, used.TotalMilliseconds, idle.TotalMilliseconds);
            MarkDead("the sandbox host used CPU while no call was running and was ended");
            return;
        }

        _idleSince = now;
        _idleCpu = cpu;
    }

    /// <summary>The CPU demand (run plus run-queue wait) of the process and its descendants, from the kernel's accounting.</summary>
    internal static TimeSpan? CpuDemand(int pid)
    {
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                return p.TotalProcessorTime;
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }

        if (Demand(pid) is not { } total) return null;
        foreach (var child in Descendants(pid)) total += Demand(child) ?? TimeSpan.Zero;
        return total;
    }

    private static TimeSpan? Demand(int pid)
    {
        try
        {
            var ns = 0L;
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var fields = File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ');
                ns += long.Parse(fields[0], CultureInfo.InvariantCulture) + long.Parse(fields[1], CultureInfo.InvariantCulture);
            }

            return TimeSpan.FromTicks(ns / 100);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return ProcTicks(pid) is { } ticks ? TimeSpan.FromMilliseconds(ticks * 10) : null;
        }
    }

    // CPU time in clock ticks of 1/100 s (USER_HZ on every Linux architecture .NET runs on).
    private static long? ProcTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }

    private static List<int> Descendants(int pid)
    {
        var found = new List<int>();
        var todo = new Stack<int>(Children(pid));
        while (todo.Count > 0 && found.Count < 64)
        {
            var current = todo.Pop();
            found.Add(current);
            foreach (var child in Children(current)) todo.Push(child);
        }

        return found;
    }

    private static IEnumerable<int> Children(int pid)
    {
        var list = new List<int>();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var text = File.ReadAllText(Path.Combine(task, "children"));
                foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var child)) list.Add(child);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process ended meanwhile, or the kernel does not list children: count what was found.
        }

        return list;
    }
}
