namespace AnyDefNet;

/// <summary>
/// A lock shared by every instance of an application (Redis, a database), taken around generation so that concurrent
/// first calls of a new function on many instances make one model request.
/// </summary>
/// <remarks>
/// The holder keeps the lock alive while it generates and releases it when the handle is disposed; a holder that dies
/// stops renewing it, so the lock ends after <c>expiry</c> and another instance takes over.
/// </remarks>
public interface IGenerationLock
{
    /// <summary>Takes the lock named <paramref name="key"/> if nobody holds it.</summary>
    /// <param name="key">The lock's name.</param>
    /// <param name="expiry">How long the lock outlives a holder that stopped renewing it.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>A handle that releases the lock when disposed, or null when another holder has it.</returns>
    Task<IAsyncDisposable?> TryAcquireAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default);
}
