using AnyDefNet.Agents;
using Microsoft.Extensions.AI;

namespace AnyDefNet.AspNetCore;

/// <summary>What <c>WithAnyDefTools</c> serves: <c>run_python</c>, the reviewed functions of a store folder, and declared functions.</summary>
public sealed class AnyDefMcpOptions
{
    /// <summary>The sandbox the tools run in; null for one made from <see cref="SandboxOptions.Default"/>, owned by the app
    /// (its processes end when the app stops).</summary>
    public PythonSandbox? Sandbox { get; set; }

    /// <summary>Whether to serve the <c>run_python</c> tool (with sessions). The default is true.</summary>
    public bool RunPython { get; set; } = true;

    /// <summary>The limits and sessions of <c>run_python</c>; its <see cref="RunPythonOptions.Sandbox"/> is replaced by
    /// <see cref="Sandbox"/>. The default is <see cref="RunPythonOptions.Default"/>.</summary>
    public RunPythonOptions RunPythonOptions { get; set; } = RunPythonOptions.Default;

    /// <summary>A store folder whose reviewed functions are served, each a tool of its own (see <see cref="AnyDefTools.FromStore"/>);
    /// null for none.</summary>
    public string? Store { get; set; }

    /// <summary>How long a call of a stored function may run. The default is 30 seconds.</summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>More tools, served as they are: declared functions (<c>AnyDefTools.FromAssembly(...)</c>, <c>function.AsAIFunction()</c>).</summary>
    public IList<AIFunction> Functions { get; } = [];
}
