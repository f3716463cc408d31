using System.Globalization;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Tests;

/// <summary>No work outside a call: what a function leaves running after it returned is refused or ended.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class IdleWorkSpecs(SandboxFixture fixture)
{
    private PythonSandbox Sandbox => fixture.Sandbox;

    private const string BusyWorker = """
        def start_worker():
            import js
            js.eval("new Worker(URL.createObjectURL(new Blob(['while (true) {}'], { type: 'text/javascript' })), { type: 'module' })")
            return "started"
        """;

    // A busy timer left behind, and the worker's wait replaced by one that returns at once (which would make a worker
    // that looked the wait up when it needs it spin).
    private const string BusyTimer = """
        def start_timer():
            import js
            js.eval("setInterval(() => { const t = Date.now(); while (Date.now() - t < 50) {} }, 0)")
            js.eval("Atomics.wait = () => 'not-equal'")
            return "started"
        """;

    // Measured from outside, from the kernel's accounting of the process and its descendants: CPU demand (time on a
    // CPU plus time waiting for one), so that a busy process counts as busy even on a heavily loaded machine.
    private static async Task<TimeSpan?> CpuOverOneSecondAsync(int pid)
    {
        var before = CpuTime(pid);
        await Task.Delay(TimeSpan.FromSeconds(1));
        var after = CpuTime(pid);
        return before is null || after is null ? null : after - before;
    }

    // The CPU demand of a second in which the process is at rest: what a host does right after a call (a fresh
    // namespace for the next one) may take a while on a loaded machine, so it gets 30 s to come to rest; something left
    // burning never does. Null once the process is gone.
    private static async Task<TimeSpan?> CpuAtRestAsync(int pid)
    {
        TimeSpan? cpu = null;
        for (var second = 0; second < 30; second++)
        {
            cpu = await CpuOverOneSecondAsync(pid);
            if (cpu is null || cpu < TimeSpan.FromMilliseconds(300)) return cpu;
        }

        return cpu;
    }

    // The process and its descendants (a host may run under a wrapper such as bwrap); null once the process is gone.
    private static TimeSpan? CpuTime(int pid)
    {
        if (!File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z')) return null;
        var total = TimeSpan.Zero;
        var todo = new Stack<int>([pid]);
        while (todo.Count > 0)
        {
            var current = todo.Pop();
            total += Demand(current);
            foreach (var c in Children(current)) todo.Push(c);
        }

        return total;
    }

    private static TimeSpan Demand(int pid)
    {
        try
        {
            return TimeSpan.FromTicks(Directory.EnumerateDirectories($"/proc/{pid}/task")
                .Select(t => File.ReadAllText(Path.Combine(t, "schedstat")).Split(' '))
                .Sum(f => long.Parse(f[0], CultureInfo.InvariantCulture) + long.Parse(f[1], CultureInfo.InvariantCulture)) / 100);
        }
        catch (IOException)
        {
            return TimeSpan.Zero; // the process ended meanwhile
        }
    }

    private static IEnumerable<int> Children(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid}/task")
                .SelectMany(t => File.ReadAllText(Path.Combine(t, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(c => int.Parse(c, CultureInfo.InvariantCulture))
                .ToList();
        }
        catch (IOException)
        {
            return [];
        }
    }

    [Fact]
    public async Task A_function_that_starts_a_busy_nested_worker_is_refused_and_leaves_no_process_burning_cpu()
    {
        var error = (await Sandbox.Invoking(s => s.RunAsync(BusyWorker, "start_worker")).Should().ThrowAsync<PythonExecutionException>()).Which;
        error.PythonMessage.Should().Contain("nested workers");
        var pid = Sandbox.ProcessIdOf(BusyWorker, "start_worker");
        pid.Should().NotBeNull("the process that ran the code is still there: a refused worker costs it nothing");

        var cpu = await CpuAtRestAsync(pid!.Value);

        cpu.Should().NotBeNull("the process is still alive: the refusal did not end it");
        cpu!.Value.Should().BeLessThan(TimeSpan.FromMilliseconds(300), "no nested worker runs after the call");
        Sandbox.ProcessIdOf(BusyWorker, "start_worker").Should().Be(pid, "the same process, measured all along");
        (await Sandbox.RunAsync("def ok():\n    return 1\n", "ok")).ResultJson.Should().Be("1");
    }

    [Fact]
    public async Task A_busy_timer_that_a_function_leaves_behind_never_runs_while_no_call_runs()
    {
        (await Sandbox.RunAsync(BusyTimer, "start_timer")).ResultJson.Should().Be("\"started\"", "the call itself succeeds");
        var pid = Sandbox.ProcessIdOf(BusyTimer, "start_timer")!.Value;

        // Between calls the worker waits on the memory it shares with the host, and nothing else runs in it.
        var cpu = await CpuAtRestAsync(pid);

        cpu.Should().NotBeNull("the process stays: it does no work outside a call");
        cpu!.Value.Should().BeLessThan(TimeSpan.FromMilliseconds(300), "the timer does not fire while the worker waits for calls");
        (await Sandbox.RunAsync(BusyTimer, "start_timer")).ResultJson.Should().Be("\"started\"", "the function runs again");
        Sandbox.ProcessIdOf(BusyTimer, "start_timer").Should().Be(pid);
    }

    // The general rule beneath the two refusals above: whatever keeps a host busy with no call running (here a test
    // host that burns a core after its reply), the library sees it from outside, ends that host, logs it, and the next
    // call runs in a fresh process.
    [Fact]
    public async Task A_host_that_burns_cpu_with_no_call_running_is_ended_logged_and_replaced()
    {
        const string code = "# the test host runs no Python";
        var log = new WarningLog();
        await using var sandbox = new PythonSandbox(MisbehavingHost.Options(MisbehavingHost.Copy()), log);

        (await sandbox.RunAsync(code, "f", "[\"burn_after_reply\", 0]")).ResultJson.Should().Be("\"burning\"", "the call itself succeeds");
        var pid = sandbox.ProcessIdOf(code, "f")!.Value;

        await HostReplySpecs.WaitUntilAsync(() => !ProcessTree.IsAlive(pid), seconds: 30);
        log.Messages.Should().Contain(m => m.Contains(pid.ToString(CultureInfo.InvariantCulture)) && m.Contains("no call running"));
        (await sandbox.RunAsync(code, "f", "[\"echo\", 0]")).ResultJson.Should().Be("[\"echo\",0]");
        sandbox.ProcessIdOf(code, "f").Should().NotBe(pid, "the burning host was replaced");
    }

    private sealed class WarningLog : ILogger
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get { lock (_messages) return [.. _messages]; }
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            lock (_messages) _messages.Add(formatter(state, exception));
        }
    }
}
