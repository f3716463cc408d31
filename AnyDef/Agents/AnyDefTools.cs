using Microsoft.Extensions.AI;

namespace AnyDefNet.Agents;

/// <summary>
/// AnyDef for agents: the sandbox as a Microsoft.Extensions.AI tool (<c>run_python</c>), and declared functions as tools.
/// Give the tools to a chat client with function invocation (<c>ChatClientBuilder.UseFunctionInvocation()</c>).
/// </summary>
/// <example>
/// <code>
/// var chat = new ChatClientBuilder(openAiChatClient).UseFunctionInvocation().Build();
/// var reply = await chat.GetResponseAsync("What is 2**100?", new ChatOptions { Tools = [AnyDefTools.RunPython()] });
/// </code>
/// </example>
public static partial class AnyDefTools
{
    /// <summary>A code-interpreter tool: the model sends Python source, the sandbox runs it and the tool returns what it printed,
    /// the value of its last expression, or its error (see <see cref="PythonRunResult.ToJson"/>).</summary>
    /// <param name="options">The sandbox, limits and sessions; null for <see cref="RunPythonOptions.Default"/>.</param>
    /// <returns>The tool; it keeps its own <see cref="PythonRunner"/> (and so its own sessions).</returns>
    public static AIFunction RunPython(RunPythonOptions? options = null) => new RunPythonFunction(new PythonRunner(options), ownsRunner: true);

    /// <summary>A code-interpreter tool over an existing runner, so that the application can end or inspect its sessions.</summary>
    public static AIFunction RunPython(PythonRunner runner)
    {
        ArgumentNullException.ThrowIfNull(runner);
        return new RunPythonFunction(runner, ownsRunner: false);
    }
}
