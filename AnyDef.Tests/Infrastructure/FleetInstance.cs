using System.Collections.Concurrent;
using System.Diagnostics;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>One instance of an application fleet (AnyDef.Tests.Instance) running as a separate process.</summary>
public sealed class FleetInstance : IAsyncDisposable
{
    private static readonly string Dll = Path.GetFullPath(typeof(FleetInstance).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "AnyDefInstance").Value!);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private FleetInstance(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join("\n", _lines);

    public static FleetInstance Start(IReadOnlyDictionary<string, string> settings)
    {
        var info = new ProcessStartInfo("dotnet", [Dll])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var name in new[] { "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANYDEF_STORE_DIR", "ANYDEF_MODEL", "ANYDEF_FROZEN" }) info.Environment.Remove(name);
        foreach (var (k, v) in settings) info.Environment[k] = v;
        var process = new Process { StartInfo = info };
        var instance = new FleetInstance(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) instance._lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) instance._lines.Enqueue("stderr: " + e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    /// <summary>Waits for a line that contains <paramref name="text"/>; fails with the output when the process ends or time runs out.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)((timeout ?? TimeSpan.FromSeconds(90)).TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            if (_lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line) return line;
            if (_process.HasExited && _lines.All(l => !l.Contains(text, StringComparison.Ordinal)))
            {
                await Task.Delay(200);
                if (_lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } late) return late;
                throw new InvalidOperationException($"The instance exited ({_process.ExitCode}) without printing '{text}'. Output:\n{Output}");
            }

            if (Stopwatch.GetTimestamp() > deadline) throw new TimeoutException($"The instance did not print '{text}'. Output:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>Lets the instance call its function.</summary>
    public Task GoAsync() => _process.StandardInput.WriteLineAsync("go");

    /// <summary>Asks the instance to stop, as a container runtime or systemd does.</summary>
    public async Task<int> TerminateAsync()
    {
        _ = SendSignal(_process.Id, 15);
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(patience.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The instance did not stop within 60 s of SIGTERM. Output:\n{Output}");
        }

        return _process.ExitCode;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>Ends the instance abruptly, as a crash would: its own process only, nothing it started.</summary>
    public async Task CrashAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
