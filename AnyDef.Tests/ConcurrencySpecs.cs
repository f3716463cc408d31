using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class ConcurrencySpecs : FakeModelSpecs
{
    public sealed record Pair(int Task, int Index);

    public sealed record Tagged(int Task, int Index, string Tag);

    public sealed record N(int X);

    [Fact]
    public async Task Ten_thousand_calls_from_64_concurrent_tasks_each_get_their_own_result()
    {
        Server.Always(FakeReply.Code("def tag(task, index):\n    return {'task': task, 'index': index, 'tag': f'{task}:{index}'}"));
        var tag = AnyDef.Function<Pair, Tagged>("tag", TestEnvironment.Unique("Tag"), TestEnvironment.Options(Server));

        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(t => Task.Run(async () =>
        {
            var mine = new List<Tagged>();
            for (var i = 0; i < 10_000 / 64 + 1; i++) mine.Add(await tag.InvokeAsync(new Pair(t, i)));
            return (t, mine);
        })));

        results.Sum(r => r.mine.Count).Should().BeGreaterThanOrEqualTo(10_000);
        foreach (var (t, mine) in results)
        {
            mine.Should().Equal(mine.Select((_, i) => new Tagged(t, i, $"{t}:{i}")));
        }
    }

    [Fact]
    public async Task The_batch_api_returns_results_in_input_order()
    {
        Server.Always(FakeReply.Code("def cube(x):\n    return x ** 3"));
        var cube = AnyDef.Function<N, long>("cube", TestEnvironment.Unique("Cube"), TestEnvironment.Options(Server));

        var results = await cube.MapAsync(Enumerable.Range(0, 1000).Select(i => new N(i)));

        results.Should().Equal(Enumerable.Range(0, 1000).Select(i => (long)i * i * i));
    }

    [Fact]
    public async Task A_failing_input_in_a_batch_raises_its_python_error()
    {
        Server.Always(FakeReply.Code("def recip(x):\n    return 1 / x"));
        var recip = AnyDef.Function<N, double>("recip", TestEnvironment.Unique("Reciprocal"), TestEnvironment.Options(Server));

        var error = (await recip.Invoking(f => f.MapAsync([new N(1), new N(0), new N(2)])).Should().ThrowAsync<PythonExecutionException>()).Which;

        error.PythonType.Should().Be("ZeroDivisionError");
        (await recip.MapAsync([new N(4), new N(2)])).Should().Equal(0.25, 0.5);
    }

    [Fact]
    public void The_sync_delegate_does_not_deadlock_under_a_single_threaded_synchronization_context()
    {
        Server.Always(FakeReply.Code("def dbl(x):\n    return 2 * x"));
        var dbl = AnyDef.Define<N, int>("dbl", TestEnvironment.Unique("Double"), TestEnvironment.Options(Server));
        int? result = null;

        var thread = new Thread(() =>
        {
            var context = new SingleThreadContext();
            SynchronizationContext.SetSynchronizationContext(context);
            result = dbl(new N(21));
        });
        thread.Start();

        thread.Join(TimeSpan.FromSeconds(60)).Should().BeTrue("the call must not deadlock");
        result.Should().Be(42);
    }

    [Fact]
    public async Task The_sync_delegate_works_inside_an_async_method()
    {
        Server.Always(FakeReply.Code("def inc(x):\n    return x + 1"));
        var inc = AnyDef.Define<N, int>("inc", TestEnvironment.Unique("Increment"), TestEnvironment.Options(Server));

        await Task.Yield();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => inc(new N(i)))));

        results.Should().Equal(Enumerable.Range(1, 8));
    }

    /// <summary>A context that posts continuations to a queue nobody drains while the thread blocks, like a UI thread.</summary>
    private sealed class SingleThreadContext : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state)
        {
            // Never run: a continuation captured here would deadlock the blocked caller.
        }
    }
}
