using StackExchange.Redis;

namespace AnyDefNet.Redis;

/// <summary>
/// A generation lock in Redis (or any server that speaks its protocol, such as Garnet): <c>SET NX</c> with an expiry,
/// renewed by its holder at a third of the expiry, released only by its holder.
/// </summary>
/// <param name="redis">A connection to the server every instance shares.</param>
/// <param name="database">The database number; -1 is the connection's default.</param>
public sealed class RedisGenerationLock(IConnectionMultiplexer redis, int database = -1) : IGenerationLock
{
    /// <inheritdoc />
    public async Task<IAsyncDisposable?> TryAcquireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        cancellationToken.ThrowIfCancellationRequested();
        var db = redis.GetDatabase(database);
        var token = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        return await db.LockTakeAsync(key, token, expiry).ConfigureAwait(false) ? new Held(db, key, token, expiry) : null;
    }

    private sealed class Held : IAsyncDisposable
    {
        private readonly IDatabase _db;
        private readonly RedisKey _key;
        private readonly RedisValue _token;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _renewing;

        public Held(IDatabase db, RedisKey key, RedisValue token, TimeSpan expiry)
        {
            _db = db;
            _key = key;
            _token = token;
            _renewing = RenewAsync(expiry);
        }

        private async Task RenewAsync(TimeSpan expiry)
        {
            using var timer = new PeriodicTimer(expiry / 3);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
                {
                    // A failed renewal (the server was unreachable past the expiry) means another instance may generate too.
                    try { await _db.LockExtendAsync(_key, _token, expiry).ConfigureAwait(false); } catch (RedisException) { }
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
            try
            {
                await _db.LockReleaseAsync(_key, _token).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // The lock expires by itself.
            }
        }
    }
}
