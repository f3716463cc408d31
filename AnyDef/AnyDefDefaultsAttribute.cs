namespace AnyDefNet;

/// <summary>
/// Settings for the <see cref="AnyDefAttribute"/> methods of an assembly or a class, used when the application has not
/// called <see cref="AnyDef.Configure"/> (what the application configures always wins). A class's attribute wins over
/// the assembly's; unset values keep <see cref="AnyDefOptions.Default"/>'s.
/// </summary>
/// <example><code>[assembly: AnyDefDefaults(StoreDirectory = "anydef-store", TimeoutSeconds = 10)]</code></example>
[AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Class | AttributeTargets.Struct, AllowMultiple = false, Inherited = false)]
public sealed class AnyDefDefaultsAttribute : Attribute
{
    /// <summary>The store folder (relative paths are relative to the current directory), as <see cref="AnyDefOptions.StoreDirectory"/>.</summary>
    public string? StoreDirectory { get; init; }

    /// <summary>The model that writes the code, as <see cref="AnyDefOptions.Model"/>.</summary>
    public string? Model { get; init; }

    /// <summary>How many seconds one call may run in the sandbox, as <see cref="AnyDefOptions.Timeout"/>; 0 keeps the default.</summary>
    public double TimeoutSeconds { get; init; }

    /// <summary>Never call the model, as <see cref="AnyDefOptions.Frozen"/>.</summary>
    public bool Frozen { get; init; }

    /// <summary>The application's source-generated JSON metadata (a <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>
    /// with <c>[JsonSerializable]</c> for the records the methods take and return), read by the source generator at compile time.</summary>
    /// <value>The default is null: records are read through reflection, which trimmed and Native AOT apps do not allow; scalars,
    /// collections, nullable values and enums never need it.</value>
    /// <example><code>[assembly: AnyDefDefaults(JsonContext = typeof(AppJson))]
    /// [JsonSerializable(typeof(Point))]
    /// internal partial class AppJson : JsonSerializerContext;</code></example>
    public Type? JsonContext { get; init; }

    internal AnyDefOptions ApplyTo(AnyDefOptions options) => options with
    {
        StoreDirectory = StoreDirectory ?? options.StoreDirectory,
        Model = Model ?? options.Model,
        Timeout = TimeoutSeconds > 0 ? TimeSpan.FromSeconds(TimeoutSeconds) : options.Timeout,
        Frozen = Frozen || options.Frozen,
    };
}
