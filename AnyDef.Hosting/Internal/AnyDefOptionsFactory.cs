using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace AnyDefNet.Hosting.Internal;

/// <summary>
/// Builds the immutable <see cref="AnyDefOptions"/> from the <c>AnyDef</c> configuration section and the application's
/// own adjustment, and validates the result, listing every problem by its configuration path.
/// </summary>
/// <remarks>The options binder fills an existing instance in place; it is given fresh instances, never the shared defaults.</remarks>
internal sealed class AnyDefOptionsFactory(IConfiguration? configuration, Func<AnyDefOptions, AnyDefOptions>? configure) : IOptionsFactory<AnyDefOptions>
{
    private const string Prefix = AnyDefHostingOptions.SectionName + ":";

    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Registered only by AddAnyDef, which is marked RequiresUnreferencedCode.")]
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Registered only by AddAnyDef, which is marked RequiresDynamicCode.")]
    public AnyDefOptions Create(string name)
    {
        var options = new AnyDefOptions { Sandbox = new SandboxOptions() };
        var errors = new List<string>();
        if (configuration?.GetSection(AnyDefHostingOptions.SectionName) is { } section && section.Exists())
        {
            try
            {
                section.Bind(options);
            }
            catch (InvalidOperationException ex)
            {
                errors.Add($"The '{AnyDefHostingOptions.SectionName}' configuration section could not be read: {ex.Message}");
            }
        }

        if (configure is not null) options = configure(options) ?? throw new InvalidOperationException("The AnyDef options callback returned null.");
        errors.AddRange(options.Errors(Prefix));
        errors.AddRange(options.Sandbox.Errors(Prefix + nameof(AnyDefOptions.Sandbox) + ":"));
        if (errors.Count > 0) throw new OptionsValidationException(name, typeof(AnyDefOptions), errors);
        return options;
    }
}
