namespace AnyDefNet.Hosting;

/// <summary>How AnyDef lives in a host; bound from the <c>AnyDef</c> configuration section beside <see cref="AnyDefOptions"/>.</summary>
public sealed class AnyDefHostingOptions
{
    /// <summary>The configuration section AnyDef reads: <c>AnyDef</c> (environment variables <c>AnyDef__Model</c> and so on).</summary>
    public const string SectionName = "AnyDef";

    /// <summary>The key of the keyed <c>IChatClient</c> service that writes the code.</summary>
    /// <value>The default is null: the application's unkeyed <c>IChatClient</c> if it registered one, else the default OpenAI client.</value>
    public string? ChatClientKey { get; set; }

    /// <summary>Whether the host's start finds the runtime, makes the snapshot and starts the spare processes.</summary>
    /// <value>The default is true.</value>
    public bool WarmUpOnStart { get; set; } = true;

    /// <summary>Whether functions declared through the static <see cref="AnyDef"/> API without options (and <c>[AnyDef]</c> methods)
    /// use the hosted configuration while the host runs.</summary>
    /// <value>The default is true.</value>
    public bool ConfigureStaticApi { get; set; } = true;

    /// <summary>How many sandbox processes may be recycled (ended after a timeout, crash or memory error) per minute before the
    /// health check reports degraded.</summary>
    /// <value>The default is 10.</value>
    public int DegradedRecyclesPerMinute { get; set; } = 10;

    /// <summary>Whether generated code is shared through the application's <c>IDistributedCache</c> (and generation guarded
    /// by its <see cref="IGenerationLock"/>, when one is registered), so a fleet asks the model once per new function.</summary>
    /// <value>The default is false.</value>
    public bool UseDistributedCache { get; set; }
}
