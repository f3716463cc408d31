namespace AnyDefNet.Internal;

/// <summary>
/// Waits for an asynchronous call on behalf of a caller that blocks (the synchronous facades). Without a
/// synchronization context or a custom scheduler that the call could need to come back to, the call starts on the
/// caller's own thread: a warm call then crosses no thread on its way out. Elsewhere it runs on the thread pool, so
/// that nothing waits for the blocked thread.
/// </summary>
internal static class Blocking
{
    /// <summary>Runs <paramref name="call"/> and waits for its result.</summary>
    public static T Wait<T>(Func<Task<T>> call) =>
        SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default
            ? call().GetAwaiter().GetResult()
            : Task.Run(call).GetAwaiter().GetResult();
}
