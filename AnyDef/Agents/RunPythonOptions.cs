namespace AnyDefNet.Agents;

/// <summary>Settings of the <c>run_python</c> tool and of <see cref="PythonRunner"/>: the sandbox, the time limit, the bounds of
/// what a cell may send back, and sessions.</summary>
/// <remarks>Immutable; change a copy with <c>with</c>.</remarks>
public sealed record RunPythonOptions
{
    /// <summary>The default settings.</summary>
    public static RunPythonOptions Default { get; } = new();

    /// <summary>The sandbox the cells run in; its <see cref="SandboxOptions.Packages"/> are what a cell may import besides the
    /// standard library, and its <see cref="SandboxOptions.MaxProcesses"/> bounds the sessions alive at once.</summary>
    /// <value>The default is null: the process-wide sandbox of <see cref="SandboxOptions.Default"/>.</value>
    public PythonSandbox? Sandbox { get; init; }

    /// <summary>How long one cell may run; a cell past it is interrupted (its session survives when the interrupt works, and ends
    /// when the process has to be ended).</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The most characters of printed output (standard output and error together) a result carries; the rest is cut
    /// and the result says so.</summary>
    /// <value>The default is 20,000. The sandbox itself keeps at most 64 KiB of a call's output.</value>
    public int MaxOutputCharacters { get; init; } = 20_000;

    /// <summary>The most characters of the last expression's value (its JSON, or its <c>repr</c>) a result carries; a longer one
    /// is cut and sent as text.</summary>
    /// <value>The default is 20,000.</value>
    public int MaxResultCharacters { get; init; } = 20_000;

    /// <summary>The most characters of an error (the traceback of the cell's own frames, then the exception); a longer one keeps
    /// its end.</summary>
    /// <value>The default is 8,000.</value>
    public int MaxErrorCharacters { get; init; } = 8_000;

    /// <summary>Whether cells may name a session, whose variables, imports and definitions persist between its cells in a process
    /// of its own.</summary>
    /// <value>The default is true; the tool then has an optional <c>session</c> parameter.</value>
    public bool AllowSessions { get; init; } = true;

    /// <summary>How long a session may stay unused before it is ended and its process freed.</summary>
    /// <value>The default is 10 minutes; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> keeps sessions until they are
    /// ended or evicted.</value>
    public TimeSpan SessionIdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The tool's name as the model sees it.</summary>
    /// <value>The default is <c>run_python</c>.</value>
    public string Name { get; init; } = "run_python";

    /// <summary>The tool's description as the model sees it.</summary>
    /// <value>The default is null: a description of what the sandbox can and cannot do, with its packages and limits.</value>
    public string? Description { get; init; }

    internal void Validate()
    {
        var errors = new List<string>();
        if (Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan) errors.Add($"{nameof(Timeout)} must be positive (was {Timeout}).");
        if (MaxOutputCharacters < 0) errors.Add($"{nameof(MaxOutputCharacters)} must not be negative (was {MaxOutputCharacters}).");
        if (MaxResultCharacters < 16) errors.Add($"{nameof(MaxResultCharacters)} must be at least 16 (was {MaxResultCharacters}).");
        if (MaxErrorCharacters < 16) errors.Add($"{nameof(MaxErrorCharacters)} must be at least 16 (was {MaxErrorCharacters}).");
        if (SessionIdleTimeout <= TimeSpan.Zero && SessionIdleTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            errors.Add($"{nameof(SessionIdleTimeout)} must be positive or infinite (was {SessionIdleTimeout}).");
        }

        if (string.IsNullOrWhiteSpace(Name)) errors.Add($"{nameof(Name)} must not be empty.");
        if (errors.Count > 0) throw new ArgumentOutOfRangeException(null, "Invalid run_python options: " + string.Join(" ", errors));
    }
}
