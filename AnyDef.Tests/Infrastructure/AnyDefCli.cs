using CliWrap;
using CliWrap.Buffered;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Runs the real <c>anydef</c> command (built beside the tests) as a separate process.</summary>
public static class AnyDefCli
{
    /// <summary>The built <c>anydef</c> program, run with <c>dotnet</c>.</summary>
    public static readonly string Dll = Path.GetFullPath(typeof(AnyDefCli).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "AnyDefCli").Value!);

    public static async Task<BufferedCommandResult> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? env = null, string? workingDirectory = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["OPENAI_API_KEY"] = null,
            ["OPENAI_BASE_URL"] = null,
            ["ANYDEF_STORE_DIR"] = null,
            ["ANYDEF_MODEL"] = null,
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string?>()) environment[k] = v;
        return await CliWrap.Cli.Wrap("dotnet")
            .WithArguments([Dll, .. args])
            .WithEnvironmentVariables(environment)
            .WithWorkingDirectory(workingDirectory ?? AppContext.BaseDirectory)
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
    }
}
