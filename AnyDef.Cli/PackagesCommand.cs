using System.CommandLine;
using AnyDefNet.Packages;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Cli;

/// <summary><c>anydef packages fetch --store DIR --out FOLDER</c>: put every package the stored functions need in one shippable folder.</summary>
internal static class PackagesCommand
{
    public static Command Create()
    {
        var store = Options.Store();
        var output = new Option<DirectoryInfo>("--out") { Description = "The folder to fill; ship it with the app and set PackageIndex and WheelDirectory (or ANYDEF_PACKAGE_INDEX and ANYDEF_WHEEL_DIR) to it.", Required = true };
        var (packages, index, wheels) = (Options.Packages(), Options.PackageIndex(), Options.Wheels());
        var debug = Options.Debug();
        var fetch = new Command("fetch", "Download (and verify) the packages the store's functions need, with their dependencies, into one folder, so a deployed app needs no network.")
        {
            store, output, packages, index, wheels, debug,
        };
        fetch.SetAction(async (parse, ct) =>
        {
            try
            {
                var functions = new DirectoryCodeStore(parse.GetValue(store) ?? "anydef-store").List().ToList();
                var recorded = functions.Where(f => f.Packages is not null)
                    .SelectMany(f => f.Packages!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(entry => (Function: f, Entry: entry)))
                    .ToList();
                var wanted = PackageSet.From(recorded.Select(r => NameOf(r.Entry))).Union(Options.PackageNames(parse.GetValue(packages)));
                var options = SandboxOptions.Default with { PackageIndex = parse.GetValue(index), WheelDirectory = parse.GetValue(wheels) };
                var location = await RuntimeLocation.ResolveAsync(options, ct);
                var resolved = await PackageResolver.For(options, location).ResolveAsync(wanted, ct);
                // A stored function reviewed against other versions would fail at run time: say so now, before shipping.
                var installed = resolved.ToDictionary(p => p.Name, p => p.Record);
                if (recorded.FirstOrDefault(r => installed[NameOf(r.Entry)] != r.Entry) is { Function: not null } stale)
                {
                    throw new PackageMismatchException(stale.Function.Path, stale.Entry, installed[NameOf(stale.Entry)]);
                }

                var folder = Directory.CreateDirectory(parse.GetValue(output)!.FullName).FullName;
                foreach (var p in resolved)
                {
                    // The copy is what ships: its own hash must be the one printed.
                    var copy = Path.Combine(folder, p.FileName);
                    File.Copy(p.Path, copy, overwrite: true);
                    if (VerifiedFiles.Hash(copy) is var actual && actual != p.Sha256)
                    {
                        File.Delete(copy);
                        throw new PackageHashMismatchException(p.FileName, p.Sha256, actual,
                            $"The copy of '{p.FileName}' written to '{copy}' has SHA-256 {actual}, not {p.Sha256}: the cached file changed while it was " +
                            $"copied, or the folder does not keep what is written to it. The copy was deleted; run 'anydef packages fetch' again.", null);
                    }

                    Console.Out.WriteLine($"{p.Name}\t{p.Version}\t{p.FileName}\tsha256:{p.Sha256}");
                }

                Console.Error.WriteLine($"{resolved.Count} package file(s) in {folder}, for {functions.Count(f => f.Packages is not null)} stored function(s) with packages");
                return ExitCodes.Success;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ExitCodes.Report(ex, parse.GetValue(debug));
            }
        });
        return new Command("packages", "Look after the Python packages the functions use.") { fetch };
    }

    // A header entry reads "name==version sha256:hex".
    private static string NameOf(string entry) => PackageSet.From([entry.Split("==")[0]])[0];
}
