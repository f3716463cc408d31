using System.CommandLine;
using AnyDefNet.Generation;

namespace AnyDefNet.Cli;

/// <summary><c>anydef check</c>: the CI gate. Every declared [AnyDef] function must have stored, reviewed code that passes
/// its examples and doctests in the sandbox; one line per problem, and stored files no declaration uses are listed.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var project = Declarations.ProjectOption();
        var assembly = Declarations.AssemblyOption();
        var store = Declarations.StoreOption();
        var allowUnreviewed = new Option<bool>("--allow-unreviewed") { Description = "Accept stored code not yet marked '# reviewed: true'." };
        var debug = Options.Debug();
        var command = new Command("check", "Fail (exit 6) when a declared [AnyDef] function is missing from the store, unreviewed, or fails its examples.")
        {
            project, assembly, store, allowUnreviewed, debug,
        };
        command.SetAction(async (parse, ct) =>
        {
            var isDebug = parse.GetValue(debug);
            try
            {
                var declarations = await Declarations.LoadAsync(parse.GetValue(project), parse.GetValue(assembly), parse.GetValue(store), ct);
                return await RunAsync(declarations, parse.GetValue(allowUnreviewed), ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ExitCodes.Report(ex, isDebug);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(Declarations declarations, bool allowUnreviewed, CancellationToken cancellationToken)
    {
        var store = new DirectoryCodeStore(declarations.Store);
        int missing = 0, unreviewed = 0, failing = 0;
        for (var i = 0; i < declarations.Functions.Count; i++)
        {
            var function = declarations.Functions[i];
            var spec = function.Spec;
            Progress.Say($"[{i + 1}/{declarations.Functions.Count}] checking {function}");
            StoredFunction? stored;
            try
            {
                stored = await store.ReadAsync(spec, cancellationToken);
            }
            catch (AnyDefException ex)
            {
                failing++;
                Console.Out.WriteLine($"failing     {function}: {ex.Message}");
                continue;
            }

            if (stored is null)
            {
                missing++;
                Console.Out.WriteLine($"missing     {function}: no stored code for spec {spec.Hash[..12]} ({Path.GetFileName(store.PathFor(spec))}); run 'anydef generate'");
                continue;
            }

            var file = Path.GetFileName(stored.Path);
            if (!stored.Reviewed && !allowUnreviewed)
            {
                unreviewed++;
                Console.Out.WriteLine($"unreviewed  {function}: {file} is not marked '# reviewed: true'; read it, then mark it");
            }

            var options = function.Options;
            var sandbox = PythonSandbox.GetShared(options.Sandbox);
            var problem = await CodeCheck.RunAsync(sandbox, options.Timeout, spec, stored.Code, function.Checks, cancellationToken);
            await sandbox.ForgetAsync(stored.Code, spec.Name);
            if (problem is not null)
            {
                failing++;
                Console.Out.WriteLine($"failing     {function}: {file}: {problem.ReplaceLineEndings(" ").Trim()}");
            }
        }

        var declared = declarations.Functions.Select(f => f.Spec.Hash).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var orphans = store.List().Where(f => f.SpecHash is null || !declared.Contains(f.SpecHash)).ToList();
        foreach (var orphan in orphans)
        {
            Console.Out.WriteLine($"orphaned    {Path.GetFileName(orphan.Path)}: no [AnyDef] declaration uses it (delete it unless a function declared at run time does)");
        }

        var problems = missing + unreviewed + failing;
        Console.Error.WriteLine($"{declarations.Functions.Count} declared function(s): {declarations.Functions.Count - missing - failing} pass, {missing} missing, " +
                                $"{unreviewed} unreviewed, {failing} failing; {orphans.Count} orphaned file(s) in {store.Directory}");
        return problems > 0 ? ExitCodes.CheckFailed : ExitCodes.Success;
    }
}
