using System.Diagnostics;
using AnyDefNet.Agents;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Tests;

/// <summary>Stateful sessions of run_python: state that persists between cells in a process of the session's own, and a
/// session that ends (on request, idle, evicted, crashed) says so on its next cell instead of starting empty.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SessionSpecs(SandboxFixture fixture)
{
    private RunPythonOptions Options => new() { Sandbox = fixture.Sandbox, Timeout = TimeSpan.FromSeconds(10) };

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [Fact]
    public async Task Variables_imports_and_definitions_persist_between_the_cells_of_a_session()
    {
        // Arrange
        await using var runner = new PythonRunner(Options);

        // Act
        await runner.RunAsync("import fractions\ntotal = fractions.Fraction(1, 3)", "s1");
        await runner.RunAsync("def add(x):\n    global total\n    total += x\n    return total", "s1");
        var third = await runner.RunAsync("add(fractions.Fraction(2, 3))\nstr(total)", "s1");

        // Assert
        third.Error.Should().BeNull();
        third.ResultJson.Should().Be("\"1\"");
        third.Session.Should().Be("s1");
    }

    [Fact]
    public async Task Sessions_of_different_ids_never_share_a_process_or_a_variable()
    {
        await using var runner = new PythonRunner(Options);

        await runner.RunAsync("secret = 'a'", "a");
        await runner.RunAsync("secret = 'b'", "b");
        var a = await runner.RunAsync("secret", "a");
        var b = await runner.RunAsync("secret", "b");
        var stateless = await runner.RunAsync("'secret' in globals()");

        a.ResultJson.Should().Be("\"a\"");
        b.ResultJson.Should().Be("\"b\"");
        stateless.ResultJson.Should().Be("false");
        runner.ProcessIdOf("a").Should().NotBeNull().And.NotBe(runner.ProcessIdOf("b"));
    }

    [Fact]
    public async Task A_session_ended_on_request_says_so_on_its_next_cell_and_its_process_is_gone()
    {
        await using var runner = new PythonRunner(Options);
        await runner.RunAsync("x = 1", "s");
        var pid = runner.ProcessIdOf("s")!.Value;

        (await runner.EndSessionAsync("s")).Should().BeTrue();
        var next = () => runner.RunAsync("x", "s");

        (await next.Should().ThrowAsync<SessionEndedException>()).Which.Reason.Should().Be("ended on request");
        runner.ActiveSessions.Should().NotContain("s");
        await WaitUntilAsync(() => !IsRunning(pid));
    }

    [Fact]
    public async Task An_idle_session_ends_after_its_idle_time()
    {
        await using var runner = new PythonRunner(Options with { SessionIdleTimeout = TimeSpan.FromSeconds(1) });
        await runner.RunAsync("x = 1", "s");
        var pid = runner.ProcessIdOf("s")!.Value;

        await WaitUntilAsync(() => !runner.ActiveSessions.Contains("s"));
        var next = () => runner.RunAsync("x", "s");

        (await next.Should().ThrowAsync<SessionEndedException>()).Which.Reason.Should().StartWith("unused for 1 s");
        await WaitUntilAsync(() => !IsRunning(pid));
    }

    [Fact]
    public async Task A_session_whose_process_was_evicted_for_another_says_so_and_does_not_start_empty()
    {
        // Arrange: room for two processes only
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxProcesses = 2, SpareProcesses = 0 });
        await using var runner = new PythonRunner(Options with { Sandbox = sandbox });
        await runner.RunAsync("x = 'first'", "first");
        await runner.RunAsync("x = 'second'", "second");

        // Act: a third session needs a slot; the least recently used idle process makes room
        var third = await runner.RunAsync("'third'", "third");
        var first = () => runner.RunAsync("x", "first");

        // Assert
        third.ResultJson.Should().Be("\"third\"");
        (await first.Should().ThrowAsync<SessionEndedException>()).Which.Reason.Should().Contain("MaxProcesses");
        (await runner.RunAsync("x", "second")).ResultJson.Should().Be("\"second\"");
    }

    [Fact]
    public async Task A_cell_that_ends_its_process_ends_its_session_and_the_next_cell_says_so()
    {
        await using var runner = new PythonRunner(Options);
        await runner.RunAsync("x = 1", "s");

        var exit = await runner.RunAsync("import js\njs.Deno.exit(0)", "s");
        var next = () => runner.RunAsync("x", "s");

        exit.Error.Should().Contain("SandboxError").And.Contain("The session 's' has ended");
        exit.SessionEnded.Should().NotBeNull();
        (await next.Should().ThrowAsync<SessionEndedException>()).Which.Reason.Should().Contain("its process ended during a cell");
    }

    [Fact]
    public async Task A_session_survives_a_cell_that_timed_out_when_the_interrupt_stopped_it()
    {
        await using var runner = new PythonRunner(Options with { Timeout = TimeSpan.FromSeconds(1) });
        await runner.RunAsync("x = 41", "s");

        var loop = await runner.RunAsync("while True:\n    x = x", "s");
        var next = await runner.RunAsync("x + 1", "s");

        loop.Error.Should().StartWith("TimeoutError");
        loop.SessionEnded.Should().BeNull();
        next.ResultJson.Should().Be("42");
    }

    [Fact]
    public async Task A_model_builds_on_its_earlier_cells_through_the_session_parameter()
    {
        await using var server = await FakeChatServer.StartAsync();
        await using var runner = new PythonRunner(Options);
        var tool = AnyDefTools.RunPython(runner);
        server.Then(FakeReply.ToolCall("call_1", "run_python", new { code = "data = [3, 1, 2]", session = "work" }))
            .Then(FakeReply.ToolCall("call_2", "run_python", new { code = "sorted(data)", session = "work" }))
            .Then(FakeReply.Text("done"));

        await AgentToolSpecs.ChatClient(server).GetResponseAsync("Sort it.", new ChatOptions { Tools = [tool] });

        server.RequestCount.Should().Be(3);
        AgentToolSpecs.ToolResult(server)["result"]!.ToJsonString().Should().Be("[1,2,3]");
        AgentToolSpecs.ToolResult(server)["session"]!.ToString().Should().Be("work");
        server.Requests[0]["tools"]![0]!["function"]!["parameters"]!["properties"]!["session"].Should().NotBeNull();
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the condition did not become true within 30 s");
            await Task.Delay(50);
        }
    }
}
