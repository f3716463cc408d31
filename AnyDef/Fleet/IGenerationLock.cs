namespace AnyDefNet;

/// <summary>
/// A lock shared by every instance of an application (Redis, a database), taken around generation so that concurrent
/// first calls of a new function on many instances make one model request.
/// </summary>
/// <remarks>
/// The holder keeps the lock alive while it generates and releases it when the handle is disposed; a holder that dies
/// stops renewing it, so the lock ends after <c>expiry</c> and another instance takes over. A handle's disposal must
/// not throw: a lock that cannot be released expires by itself.
/// </remarks>
public interface IGenerationLock
{
    /// <summary>Takes the lock named <paramref name="key"/> if nobody holds it.</summary>
    /// <param name="key">The lock's name.</param>
    /// <param name="expiry">How long the lock outlives a holder that stopped renewing it.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>A handle that releases the lock when disposed (an <see cref="IGenerationLockHandle"/> when the lock can
    /// tell that it was lost), or null when another holder has it.</returns>
    Task<IAsyncDisposable?> TryAcquireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default);

    /// <summary>Waits until the lock named <paramref name="key"/> may have become free (its holder released it, or it
    /// expired), or at most <paramref name="timeout"/>; returning early is allowed, the caller looks again.</summary>
    /// <param name="key">The lock's name.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <remarks>The default waits 200 ms (polling); a lock that can announce its release (Redis pub/sub) wakes waiters at once.</remarks>
    Task WaitAsync(string key, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Task.Delay(timeout < TimeSpan.FromMilliseconds(200) ? timeout : TimeSpan.FromMilliseconds(200), cancellationToken);
}

/// <summary>A held <see cref="IGenerationLock"/> that can tell when it was lost (it could not be renewed before it
/// expired, so another instance may hold it now).</summary>
public interface IGenerationLockHandle : IAsyncDisposable
{
    /// <summary>Cancelled when the lock is known to be lost.</summary>
    CancellationToken Lost { get; }
}
