using System.CommandLine;

namespace AnyDefNet.Cli;

/// <summary><c>anydef store list|show NAME|clear</c>: look after the folder of reviewed functions.</summary>
internal static class StoreCommand
{
    public static Command Create()
    {
        var list = new Command("list", "List the stored functions.");
        var store1 = Options.Store();
        list.Options.Add(store1);
        list.SetAction(parse =>
        {
            var store = Open(parse.GetValue(store1));
            var functions = store.List().ToList();
            if (functions.Count == 0) Console.Error.WriteLine($"no functions in {store.Directory}");
            foreach (var f in functions)
            {
                Console.Out.WriteLine($"{f.Name}\t{(f.SpecHash is { Length: >= 12 } h ? h[..12] : "-")}\t{(f.Reviewed ? "reviewed" : "unreviewed")}\t{f.Source ?? "-"}\t{Path.GetFileName(f.Path)}");
            }

            return ExitCodes.Success;
        });

        var show = new Command("show", "Print the stored code of a function (every version, if there are several).");
        var name = new Argument<string>("name") { Description = "The function name." };
        var store2 = Options.Store();
        show.Arguments.Add(name);
        show.Options.Add(store2);
        show.SetAction(parse =>
        {
            var store = Open(parse.GetValue(store2));
            var matches = store.List().Where(f => f.Name == parse.GetValue(name)).ToList();
            if (matches.Count == 0)
            {
                Console.Error.WriteLine($"error: no function named '{parse.GetValue(name)}' in {store.Directory}; 'anydef store list' shows what is there.");
                return ExitCodes.Usage;
            }

            foreach (var f in matches) Console.Out.Write(File.ReadAllText(f.Path));
            return ExitCodes.Success;
        });

        var clear = new Command("clear", "Delete every stored function (reviewed code included): needs --yes.");
        var store3 = Options.Store();
        var yes = new Option<bool>("--yes") { Description = "Confirm the deletion." };
        clear.Options.Add(store3);
        clear.Options.Add(yes);
        clear.SetAction(parse =>
        {
            var store = Open(parse.GetValue(store3));
            var files = store.List().Select(f => f.Path).ToList();
            if (!parse.GetValue(yes))
            {
                Console.Error.WriteLine($"error: this would delete {files.Count} stored function(s) in {store.Directory}, reviewed ones included; run again with --yes.");
                return ExitCodes.Usage;
            }

            foreach (var f in files) File.Delete(f);
            Console.Error.WriteLine($"deleted {files.Count} stored function(s) from {store.Directory}");
            return ExitCodes.Success;
        });

        return new Command("store", "Look after the store of reviewed functions.") { list, show, clear };
    }

    private static DirectoryCodeStore Open(string? directory) => new(directory ?? "anydef-store");
}
