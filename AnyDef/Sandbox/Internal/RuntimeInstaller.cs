using System.Text;
using CliWrap;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>Installs the pinned Deno and Pyodide into the per-user cache with npm, once, showing progress.</summary>
internal static class RuntimeInstaller
{
    public static async Task InstallAsync(string hostDir, string target, SandboxOptions options, CancellationToken cancellationToken)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw RuntimeLocation.CannotWrite("the sandbox runtime (Deno and Pyodide, installed with npm)", target, ex);
        }

        await using var gate = await FileLock.AcquireAsync(target + ".lock", TimeSpan.FromMinutes(10), cancellationToken).ConfigureAwait(false);
        if (File.Exists(Path.Combine(target, "node_modules", "pyodide", "pyodide.asm.wasm"))) return;

        var npm = FindOnPath(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
            ?? throw new SandboxUnavailableException(
                $"The AnyDef sandbox runtime (Deno and Pyodide from npm) is not installed and npm was not found. Install Node.js and npm " +
                $"and run again (AnyDef then installs the runtime into {target} once), or run `npm ci` in a folder holding AnyDef's " +
                $"package.json and package-lock.json (from {hostDir}) and set ANYDEF_RUNTIME_DIR to it.");

        var temp = $"{target}.{Environment.ProcessId}.tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        File.Copy(Path.Combine(hostDir, "package.json"), Path.Combine(temp, "package.json"));
        File.Copy(Path.Combine(hostDir, "package-lock.json"), Path.Combine(temp, "package-lock.json"));

        Say($"AnyDef: installing the pinned Deno and Pyodide into {target} (once; about 110 MB)...");
        var log = new StringBuilder();
        var result = await Cli.Wrap(npm)
            .WithArguments(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .WithWorkingDirectory(temp)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(log))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(log))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new SandboxUnavailableException($"Installing the sandbox runtime with `npm ci` in {temp} failed (exit code {result.ExitCode}): " +
                $"{log.ToString().Trim()}. Check npm's registry access, or install it yourself and set ANYDEF_RUNTIME_DIR.");
        }

        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
        Directory.Move(temp, target);
        Say($"AnyDef: sandbox runtime installed in {result.RunTime.TotalSeconds:0.#} s.");
    }

    private static void Say(string message)
    {
        if (!Console.IsErrorRedirected) Console.Error.WriteLine(message);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
