using StackExchange.Redis;

namespace AnyDefNet.Redis;

/// <summary>
/// A generation lock in Redis (or any server that speaks its protocol, such as Garnet): <c>SET NX</c> with an expiry,
/// renewed by its holder at a third of the expiry, released only by its holder, which then announces the release on
/// the channel <c>{key}:free</c> so waiters wake at once instead of polling.
/// </summary>
/// <remarks>
/// Nothing here throws into the call that holds the lock: a renewal that fails (a timeout, a lost connection) is
/// retried at the next tick, and a lock that could not be renewed before it expired, or that the server no longer
/// holds for this holder, is reported lost through <see cref="IGenerationLockHandle.Lost"/>. A release that fails is
/// left to the lock's expiry.
/// </remarks>
/// <param name="redis">A connection to the server every instance shares.</param>
/// <param name="database">The database number; -1 is the connection's default.</param>
public sealed class RedisGenerationLock(IConnectionMultiplexer redis, int database = -1) : IGenerationLock
{
    // How long disposal waits for the release to reach the server before leaving it to finish (or to the lock's expiry).
    private static readonly TimeSpan s_releasePatience = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    public async Task<IAsyncDisposable?> TryAcquireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        cancellationToken.ThrowIfCancellationRequested();
        var db = redis.GetDatabase(database);
        var token = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        return await db.LockTakeAsync(key, token, expiry).ConfigureAwait(false) ? new Held(db, redis.GetSubscriber(), key, token, expiry) : null;
    }

    /// <inheritdoc />
    /// <remarks>Wakes when the holder announces its release, or when the lock's remaining time (its expiry, for a holder
    /// that died) has passed, whichever is first; at most <paramref name="timeout"/>.</remarks>
    public async Task WaitAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var subscriber = redis.GetSubscriber();
        var channel = Channel(key);
        var woken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<RedisChannel, RedisValue> wake = (_, _) => woken.TrySetResult();
        await subscriber.SubscribeAsync(channel, wake).ConfigureAwait(false);
        try
        {
            // Subscribed first, then looked: a release between the two is either seen here or announced to us.
            var left = await redis.GetDatabase(database).KeyTimeToLiveAsync(key).ConfigureAwait(false);
            if (left is not { } remaining) return;
            var wait = remaining + TimeSpan.FromMilliseconds(50);
            if (timeout != Timeout.InfiniteTimeSpan && timeout < wait) wait = timeout;
            try
            {
                await woken.Task.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        finally
        {
            try
            {
                await subscriber.UnsubscribeAsync(channel, wake).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The subscription ends with the connection.
            }
        }
    }

    private static RedisChannel Channel(string key) => RedisChannel.Literal(key + ":free");

    private sealed class Held : IGenerationLockHandle
    {
        private readonly IDatabase _db;
        private readonly ISubscriber _subscriber;
        private readonly string _key;
        private readonly RedisValue _token;
        private readonly CancellationTokenSource _stop = new();
        private readonly CancellationTokenSource _lost = new();
        private readonly Task _renewing;

        public Held(IDatabase db, ISubscriber subscriber, string key, RedisValue token, TimeSpan expiry)
        {
            _db = db;
            _subscriber = subscriber;
            _key = key;
            _token = token;
            Lost = _lost.Token;
            _renewing = RenewAsync(expiry);
        }

        public CancellationToken Lost { get; }

        private async Task RenewAsync(TimeSpan expiry)
        {
            using var timer = new PeriodicTimer(expiry / 3);
            var renewed = TimeProvider.System.GetTimestamp();
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                {
                    try
                    {
                        if (await _db.LockExtendAsync(_key, _token, expiry).ConfigureAwait(false))
                        {
                            renewed = TimeProvider.System.GetTimestamp();
                            continue;
                        }

                        // The server no longer holds the lock for us: it expired, or someone removed it.
                        await _lost.CancelAsync().ConfigureAwait(false);
                        return;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // A timeout or a lost connection: try again at the next tick, unless the lock has run out meanwhile.
                        if (TimeProvider.System.GetElapsedTime(renewed) >= expiry)
                        {
                            await _lost.CancelAsync().ConfigureAwait(false);
                            return;
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _renewing.ConfigureAwait(false);
            _stop.Dispose();
            var lost = _lost.IsCancellationRequested;
            _lost.Dispose();
            if (lost) return;
            var release = ReleaseAsync();
            try
            {
                await release.WaitAsync(s_releasePatience).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // A stalled server: the release finishes later, or the lock expires by itself.
            }
        }

        private async Task ReleaseAsync()
        {
            try
            {
                if (await _db.LockReleaseAsync(_key, _token).ConfigureAwait(false)) await _subscriber.PublishAsync(Channel(_key), "released").ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The lock expires by itself, and waiters wake at its expiry.
            }
        }
    }
}
