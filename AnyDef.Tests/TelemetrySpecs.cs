using System.Diagnostics;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
public sealed class TelemetrySpecs : FakeModelSpecs
{
    public sealed record N(int X);

    private static string UniqueName(string stem) => $"{stem}_{Guid.NewGuid():N}"[..(stem.Length + 9)];

    [Fact]
    public async Task A_first_call_reports_resolution_each_generation_attempt_with_gen_ai_attributes_and_the_sandbox_call()
    {
        // Arrange: the first reply fails the example, the second passes
        using var telemetry = new TelemetryRecorder();
        var name = UniqueName("double_it");
        Server.Then(FakeReply.Code($"def {name}(x):\n    return x + 2") with { InputTokens = 100, OutputTokens = 20 })
              .Then(FakeReply.Code($"def {name}(x):\n    return x * 2") with { InputTokens = 150, OutputTokens = 30 });
        var store = TestEnvironment.TempDir();
        var function = AnyDef.Function<N, int>(name, "Double the number.", TestEnvironment.Options(Server) with { StoreDirectory = store },
            examples: [(new N(5), 10)]);

        // Act
        var result = await function.InvokeAsync(new N(21));
        var code = await function.GetCodeAsync();

        // Assert: spans
        result.Should().Be(42);
        var spans = telemetry.Spans(name);
        var resolve = spans.Single(s => s.OperationName == AnyDefTelemetry.ResolveSpan);
        resolve.GetTagItem("anydef.code.source").Should().Be("model");
        var attempts = spans.Where(s => s.OperationName == "chat fake-model").OrderBy(s => s.StartTimeUtc).ToList();
        attempts.Should().HaveCount(2);
        attempts.Should().AllSatisfy(a =>
        {
            a.Kind.Should().Be(ActivityKind.Client);
            a.ParentSpanId.Should().Be(resolve.SpanId);
            a.GetTagItem("gen_ai.operation.name").Should().Be("chat");
            a.GetTagItem("gen_ai.system").Should().Be("openai");
            a.GetTagItem("gen_ai.request.model").Should().Be("fake-model");
            a.GetTagItem("gen_ai.response.model").Should().Be("fake-model");
            a.GetTagItem("gen_ai.response.finish_reasons").Should().BeEquivalentTo(new[] { "stop" });
        });
        attempts.Select(a => a.GetTagItem("gen_ai.usage.input_tokens")).Should().Equal(100L, 150L);
        attempts.Select(a => a.GetTagItem("gen_ai.usage.output_tokens")).Should().Equal(20L, 30L);
        attempts.Select(a => a.GetTagItem("anydef.check")).Should().Equal("failed", "passed");
        var call = spans.Where(s => s.OperationName == AnyDefTelemetry.SandboxCallSpan).Should().NotBeEmpty().And.Subject.Last();
        call.GetTagItem("anydef.outcome").Should().Be("ok");
        ((int)call.GetTagItem("anydef.sandbox.process_id")!).Should().BePositive();
        call.GetTagItem("anydef.sandbox.queued_ms").Should().BeOfType<double>();

        // Assert: metrics
        telemetry.Measurements("anydef.generation.tokens", name).Where(m => (string)m.Tags["gen_ai.token.type"]! == "input").Sum(m => m.Value).Should().Be(250);
        telemetry.Measurements("anydef.generation.tokens", name).Where(m => (string)m.Tags["gen_ai.token.type"]! == "output").Sum(m => m.Value).Should().Be(50);
        telemetry.Measurements("anydef.generations", name).Should().ContainSingle().Which.Tags["anydef.outcome"].Should().Be("success");
        telemetry.Measurements("anydef.generation.failed_attempts", name).Sum(m => m.Value).Should().Be(1);
        telemetry.Measurements("anydef.call.duration", name).Should().Contain(m => (string)m.Tags["anydef.outcome"]! == "ok" && m.Value > 0);
        telemetry.Measurements("anydef.sandbox.processes.alive").Should().Contain(m => m.Value >= 1);

        // Assert: token usage on the code and in the store file's header
        code.Usage.Should().Be(new TokenUsage(250, 50));
        File.ReadAllText(code.StorePath!).Should().Contain("# tokens: 250 input, 50 output");
        (await new DirectoryCodeStore(store).ReadAsync(function.Spec))!.Usage.Should().Be(new TokenUsage(250, 50));
    }

    [Fact]
    public async Task A_failed_generation_carries_the_tokens_of_every_attempt()
    {
        // Arrange
        Server.Always(FakeReply.Text("I cannot write that.") with { InputTokens = 10, OutputTokens = 5 });
        var function = AnyDef.Function<N, int>("never", TestEnvironment.Unique("Never works"), TestEnvironment.Options(Server) with { MaxAttempts = 2 });

        // Act
        var act = () => function.InvokeAsync(new N(1));

        // Assert
        var error = (await act.Should().ThrowAsync<CodeGenerationException>()).Which;
        error.Attempts.Select(a => a.Usage).Should().Equal(new TokenUsage(10, 5), new TokenUsage(10, 5));
        error.Usage.Should().Be(new TokenUsage(20, 10));
    }

    [Fact]
    public async Task The_repair_loop_stops_before_an_attempt_that_would_pass_the_token_budget()
    {
        // Arrange: each attempt costs 15 tokens; the budget pays for two, the attempts allowed are five
        Server.Always(FakeReply.Text("no code here") with { InputTokens = 10, OutputTokens = 5 });
        var function = AnyDef.Function<N, int>("budgeted", TestEnvironment.Unique("Over budget"),
            TestEnvironment.Options(Server) with { MaxAttempts = 5, MaxGenerationTokens = 40 });

        // Act
        var act = () => function.InvokeAsync(new N(1));

        // Assert
        var error = (await act.Should().ThrowAsync<CodeGenerationException>()).Which;
        error.Message.Should().Contain("MaxGenerationTokens").And.Contain("40");
        error.Attempts.Should().HaveCount(2);
        Server.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task A_timed_out_call_is_counted_and_its_span_says_so()
    {
        // Arrange: reviewed code from the store, no model
        using var telemetry = new TelemetryRecorder();
        var name = UniqueName("spin");
        var store = TestEnvironment.TempDir();
        var options = TestEnvironment.Options(Server) with { StoreDirectory = store, Frozen = true, AllowUnreviewed = true, Timeout = TimeSpan.FromSeconds(1) };
        var function = AnyDef.Function<N, int>(name, "Spin forever.", options);
        await new DirectoryCodeStore(store).WriteAsync(function.Spec, $"def {name}(x):\n    while True:\n        pass\n", "hand-written");

        // Act
        var act = () => function.InvokeAsync(new N(1));

        // Assert
        await act.Should().ThrowAsync<SandboxTimeoutException>();
        telemetry.Spans(name).Single(s => s.OperationName == AnyDefTelemetry.SandboxCallSpan).GetTagItem("anydef.outcome").Should().Be("timeout");
        telemetry.Measurements("anydef.sandbox.timeouts", name).Sum(m => m.Value).Should().Be(1);
        telemetry.Measurements("anydef.call.duration", name).Should().ContainSingle(m => (string)m.Tags["anydef.outcome"]! == "timeout");
        Server.RequestCount.Should().Be(0);
    }
}
