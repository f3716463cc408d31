using System.CommandLine;
using AnyDefNet.Internal;
using Microsoft.Extensions.Caching.Memory;

namespace AnyDefNet.Cli;

/// <summary><c>anydef generate</c>: asks the model for every declared [AnyDef] function the store lacks, checks each in the
/// sandbox, and writes it to the store marked <c>reviewed: false</c>.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var project = Declarations.ProjectOption();
        var assembly = Declarations.AssemblyOption();
        var store = Declarations.StoreOption();
        var debug = Options.Debug();
        var command = new Command("generate", "Generate the code of every [AnyDef] function the store lacks, check it in the sandbox, and store it for review.")
        {
            project, assembly, store, debug,
        };
        command.SetAction(async (parse, ct) =>
        {
            var isDebug = parse.GetValue(debug);
            try
            {
                var declarations = await Declarations.LoadAsync(parse.GetValue(project), parse.GetValue(assembly), parse.GetValue(store), ct);
                return await RunAsync(declarations, isDebug, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ExitCodes.Report(ex, isDebug);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(Declarations declarations, bool debug, CancellationToken cancellationToken)
    {
        var store = new DirectoryCodeStore(declarations.Store);
        using var cache = new MemoryCache(new MemoryCacheOptions());
        int generated = 0, stored = 0, failed = 0;
        for (var i = 0; i < declarations.Functions.Count; i++)
        {
            var function = declarations.Functions[i];
            var spec = function.Spec;
            if (await store.ReadAsync(spec, cancellationToken) is { } existing)
            {
                stored++;
                Console.Out.WriteLine($"stored     {function}  {Path.GetFileName(existing.Path)}");
                continue;
            }

            Progress.Say($"[{i + 1}/{declarations.Functions.Count}] generating {function}");
            try
            {
                // The declaration's own settings (model, timeout), but this store, never frozen, and no embedded copy.
                var options = function.Options with { StoreDirectory = store.Directory, Frozen = false, Cache = cache, Logger = TerminalProgressLogger.IfTerminal() };
                var code = await CodeResolver.ResolveAsync(spec, function.Checks, options, PythonSandbox.GetShared(options.Sandbox), cancellationToken);
                generated++;
                Console.Out.WriteLine($"generated  {function}  {Path.GetFileName(code.StorePath)}");
            }
            catch (AnyDefException ex) when (ex is CodeGenerationException or ModelException or PythonExecutionException or SandboxTimeoutException)
            {
                failed++;
                Console.Out.WriteLine($"failed     {function}: {ex.Message.ReplaceLineEndings(" ")}");
                if (debug) Console.Error.WriteLine(ex);
            }
        }

        Console.Error.WriteLine($"{declarations.Functions.Count} declared function(s) in {Path.GetFileName(declarations.AssemblyPath)}: " +
                                $"{generated} generated, {stored} already stored, {failed} failed. Store: {store.Directory}");
        if (generated > 0) Console.Error.WriteLine("Read the new files, set '# reviewed: true' in those you accept, and commit them.");
        return failed > 0 ? ExitCodes.GenerationFailed : ExitCodes.Success;
    }
}
