using System.CommandLine;
using System.Reflection;
using System.Runtime.Loader;
using AnyDefNet.Generated;
using CliWrap;
using CliWrap.Buffered;

namespace AnyDefNet.Cli;

/// <summary>
/// Finds the [AnyDef] functions an application declares: builds its project (or takes a built assembly), loads the
/// assembly beside the tool's own AnyDef, and reads the declarations the source generator listed in it.
/// </summary>
internal sealed record Declarations(string AssemblyPath, IReadOnlyList<DeclaredFunction> Functions, string Store)
{
    public static Option<FileInfo?> ProjectOption() => new("--project") { Description = "The project to build and read (default: the one .csproj in the current folder)." };

    public static Option<FileInfo?> AssemblyOption() => new("--assembly") { Description = "A built assembly to read instead of building a project." };

    public static Option<string?> StoreOption() => new("--store")
    {
        Description = "The store folder (default: the project's AnyDefStoreDirectory, anydef-store beside the project).",
    };

    public static async Task<Declarations> LoadAsync(FileInfo? project, FileInfo? assembly, string? store, CancellationToken cancellationToken)
    {
        if (project is not null && assembly is not null) throw new ArgumentException("Give --project or --assembly, not both.");
        var path = assembly?.FullName ?? await BuildAsync(project ?? FindProject(), cancellationToken);
        if (!File.Exists(path)) throw new FileNotFoundException($"The assembly '{path}' does not exist; build the project first, or pass --project.");

        var loaded = new ApplicationLoadContext(path).LoadFromAssemblyPath(path);
        var functions = DeclaredFunction.FindAll(loaded);
        var storeDirectory = store
            ?? loaded.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "AnyDefStoreDirectory")?.Value
            ?? (Environment.GetEnvironmentVariable("ANYDEF_STORE_DIR") is { Length: > 0 } d ? d : null)
            ?? throw new ArgumentException($"'{Path.GetFileName(path)}' does not say where its store is (it was built without the AnyDef package's build file); pass --store.");
        return new Declarations(path, functions, Path.GetFullPath(storeDirectory));
    }

    private static FileInfo FindProject()
    {
        var projects = Directory.GetFiles(Environment.CurrentDirectory, "*.csproj");
        return projects.Length == 1
            ? new FileInfo(projects[0])
            : throw new ArgumentException(projects.Length == 0
                ? "No .csproj in the current folder: pass --project PATH.csproj or --assembly PATH.dll."
                : "Several .csproj files in the current folder: pass --project PATH.csproj.");
    }

    private static async Task<string> BuildAsync(FileInfo project, CancellationToken cancellationToken)
    {
        if (!project.Exists) throw new FileNotFoundException($"The project '{project.FullName}' does not exist.");
        Progress.Say($"building {project.Name}");
        var result = await CliWrap.Cli.Wrap("dotnet")
            .WithArguments(["build", project.FullName, "--nologo", "-v", "q", "-t:Build", "-getProperty:TargetPath"])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new ArgumentException($"Building {project.Name} failed; fix the build first:\n{result.StandardOutput.Trim()}\n{result.StandardError.Trim()}");
        }

        return result.StandardOutput.Trim().Split('\n').Last().Trim();
    }

    /// <summary>Loads the application's assemblies from its folder, but AnyDef itself from the tool, so the types match.</summary>
    private sealed class ApplicationLoadContext(string mainAssembly) : AssemblyLoadContext("anydef-application")
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainAssembly);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name == typeof(AnyDef).Assembly.GetName().Name) return null;
            if (Default.Assemblies.FirstOrDefault(a => a.GetName().Name == assemblyName.Name) is { } shared) return shared;
            var path = _resolver.ResolveAssemblyToPath(assemblyName)
                ?? Path.Combine(Path.GetDirectoryName(mainAssembly)!, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
