namespace AnyDefNet.Internal;

/// <summary>
/// What a timeout may be: positive and at most <see cref="Max"/> (what timers and the host can count), or
/// <see cref="Timeout.InfiniteTimeSpan"/> for no deadline (the call can still be cancelled).
/// </summary>
internal static class Timeouts
{
    /// <summary>The longest finite timeout: about 24.8 days, the most a timer can wait.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromMilliseconds(int.MaxValue - 1);

    public static bool IsInfinite(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan;

    public static bool IsValid(TimeSpan timeout) => IsInfinite(timeout) || (timeout > TimeSpan.Zero && timeout <= Max);

    /// <summary>The allowed range in words, for error messages.</summary>
    public static string Range => $"must be positive and at most {Max} (about 24.8 days), or Timeout.InfiniteTimeSpan for no deadline";

    /// <summary>Refuses a timeout outside the range at the API boundary.</summary>
    public static TimeSpan Require(TimeSpan timeout, string parameter) => IsValid(timeout)
        ? timeout
        : throw new ArgumentOutOfRangeException(parameter, timeout, $"The timeout {Range} (was {timeout}).");

    /// <summary>The option's error message when it is out of range, else null.</summary>
    public static string? Check(TimeSpan value, string name) => IsValid(value) ? null : $"{name} {Range} (was {value}).";

    /// <summary>Milliseconds for a deadline, or -1 for none.</summary>
    public static long Milliseconds(TimeSpan timeout) => IsInfinite(timeout) ? -1 : (long)Math.Ceiling(timeout.TotalMilliseconds);
}
