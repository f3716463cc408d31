using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Agents;

/// <summary>A declared function offered to a model as a tool: its name, description and argument schema come from its spec,
/// its arguments are checked against that schema and passed as keyword arguments (data, never code), and its result is the
/// function's own, converted to its declared result type and back.</summary>
internal sealed class FunctionTool : AIFunction
{
    private readonly JsonObject _schema;
    private readonly Func<string, CancellationToken, Task<string>> _invoke;

    public FunctionTool(FunctionSpec spec, Func<string, CancellationToken, Task<string>> invoke)
    {
        Spec = spec;
        _invoke = invoke;
        _schema = ToolSchema.For(spec);
        JsonSchema = ToolArguments.Schema(_schema.ToJsonString());
        Description = spec.Description;
    }

    public FunctionSpec Spec { get; }

    public override string Name => Spec.Name;

    public override string Description { get; }

    public override JsonElement JsonSchema { get; }

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        var keywords = new JsonObject();
        foreach (var name in arguments.Keys)
        {
            if (Spec.Parameters.All(p => p.PythonName != name)) errors.Add($"there is no parameter '{name}'");
        }

        foreach (var p in Spec.Parameters)
        {
            if (ToolArguments.Get(arguments, p.PythonName) is not { } value)
            {
                // An explicit null is a value for a parameter that takes None.
                if (arguments.TryGetValue(p.PythonName, out _) && p.Hint.Contains("None", StringComparison.Ordinal)) keywords[p.PythonName] = null;
                else if (p.Default is null) errors.Add($"the argument '{p.PythonName}' is required");
                continue;
            }

            SchemaCheck.Check(_schema["properties"]![p.PythonName]!.AsObject(), value, p.PythonName, errors);
            keywords[p.PythonName] = JsonNode.Parse(value.GetRawText());
        }

        if (errors.Count > 0) return ToolArguments.Error($"Invalid arguments for {Spec.Name}: {string.Join("; ", errors)}. The signature is: {Spec.Signature}");
        try
        {
            var json = await _invoke(PythonSandbox.Pack("[]", keywords.ToJsonString()), cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (PythonExecutionException ex)
        {
            return ToolArguments.Error($"{ex.PythonType}: {ex.PythonMessage}");
        }
        catch (AnyDefException ex)
        {
            return ToolArguments.Error(ex.Message);
        }
    }
}
