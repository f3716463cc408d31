using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// The operating-system wall beneath Deno's permissions (defence in depth): where bubblewrap (<c>bwrap</c>) works, each
/// host runs in new user, mount, PID, IPC, UTS, cgroup and network namespaces, with an empty environment, a read-only
/// root holding only the system libraries, the Deno binary and exactly the paths Deno may read (bound read-only), and
/// the private socket's folder as the only writable place. It dies with the library's process. Over the loopback TCP
/// transport the host keeps the library's network namespace (it must reach 127.0.0.1); Deno's permission then names
/// only the library's address and port.
/// </summary>
internal static class OsSandbox
{
    private static readonly Lazy<string?> s_bwrap = new(Probe);
    private static int s_saidUnavailable;
    private static int s_saidRoot;

    // What the dynamically linked Deno binary needs to start; read-only, and nothing of the user's files.
    private static readonly string[] SystemPaths = ["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/ld.so.cache"];

    /// <summary>The working <c>bwrap</c> binary, or null where there is none or it cannot make namespaces here.</summary>
    public static string? Bwrap => s_bwrap.Value;

    /// <summary>
    /// Starts the probe for a working bwrap in the background (it starts a process, ~50 ms), so that it is done, or nearly,
    /// by the time the first host is launched rather than delaying that launch.
    /// </summary>
    public static void ProbeInBackground()
    {
        if (!s_bwrap.IsValueCreated) _ = Task.Run(() => s_bwrap.Value);
    }

    /// <summary>Whether hosts started with <paramref name="options"/> run inside the OS layer.</summary>
    public static bool IsOn(SandboxOptions options) => options.UseOsSandbox && Bwrap is not null;

    /// <summary>Logs once per application that the OS layer is off for want of a working bwrap.</summary>
    public static void SayUnavailableOnce(ILogger logger)
    {
        if (Interlocked.Exchange(ref s_saidUnavailable, 1) == 0)
        {
            logger.LogWarning("The sandbox runs without its operating-system layer: bubblewrap (bwrap) is not installed or cannot create namespaces here. " +
                "Deno's permissions remain the wall. Install it (Debian/Ubuntu: apt-get install bubblewrap) to add the second wall.");
        }
    }

    /// <summary>
    /// Logs once per application that it runs as root: the wall then rests on namespaces and dropped capabilities alone
    /// (every file the host can see is owned by its own user), so a kernel or bubblewrap flaw costs more.
    /// </summary>
    public static void SayRootOnce(ILogger logger)
    {
        if (Environment.IsPrivilegedProcess && Interlocked.Exchange(ref s_saidRoot, 1) == 0)
        {
            logger.LogWarning("The application runs as root: the sandbox's operating-system layer still drops every capability and binds " +
                "/proc/sys read-only, but files that root owns look like the host's own. Run the application as an unprivileged user.");
        }
    }

    /// <summary>
    /// Starts bubblewrap itself with an empty environment: inside the wall it is process 1, and whatever environment it
    /// started with (the application's, API keys included) would be readable in <c>/proc/1/environ</c>.
    /// </summary>
    public static void ClearEnvironment(CliWrap.Builders.EnvironmentVariablesBuilder env)
    {
        foreach (var name in Environment.GetEnvironmentVariables().Keys.OfType<string>()) env.Set(name, null);
    }

    private static readonly Lazy<System.Collections.Concurrent.BlockingCollection<Action>> s_launcher = new(StartLauncher);

    /// <summary>
    /// Runs <paramref name="start"/> (which starts a process) on one thread that lives as long as the application:
    /// bwrap's <c>--die-with-parent</c> follows the thread that started it, and a pool thread that retires would end
    /// a healthy host with it.
    /// </summary>
    public static T OnLauncherThread<T>(Func<T> start)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        s_launcher.Value.Add(() =>
        {
            try
            {
                done.SetResult(start());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    private static System.Collections.Concurrent.BlockingCollection<Action> StartLauncher()
    {
        var work = new System.Collections.Concurrent.BlockingCollection<Action>();
        var thread = new Thread(() =>
        {
            foreach (var action in work.GetConsumingEnumerable()) action();
        })
        {
            IsBackground = true,
            Name = "AnyDef sandbox launcher",
        };
        thread.Start();
        return work;
    }

    /// <summary>The bwrap arguments that run <paramref name="deno"/> with <paramref name="denoArgs"/> inside the wall.</summary>
    /// <param name="deno">The Deno binary.</param>
    /// <param name="denoArgs">Deno's arguments.</param>
    /// <param name="environment">The only environment variables the host gets.</param>
    /// <param name="bindsFrom">The Deno arguments whose <c>--allow-read</c> paths are bound read-only and whose
    /// <c>--allow-write</c> paths' folders are bound writable; by default <paramref name="denoArgs"/>.</param>
    /// <param name="shareNetwork">Whether the host keeps the library's network namespace (for the loopback TCP transport,
    /// whose listener is on the library's 127.0.0.1); every other namespace is still new.</param>
    public static List<string> Arguments(string deno, IReadOnlyList<string> denoArgs, IEnumerable<KeyValuePair<string, string?>> environment,
        IReadOnlyList<string>? bindsFrom = null, bool shareNetwork = false)
    {
        bindsFrom ??= denoArgs;
        var writable = Values(bindsFrom, "--allow-write=").Select(p => Path.GetDirectoryName(p)!).Distinct().ToList();
        var readable = Values(bindsFrom, "--allow-read=")
            .Where(p => !writable.Any(w => p.StartsWith(w + "/", StringComparison.Ordinal)))
            .Distinct()
            .ToList();

        List<string> args =
        [
            "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv", "--chdir", "/",
            // A fresh /proc, with the kernel's settings read-only (as root they would be writable through it).
            "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys", "--dev", "/dev",
        ];
        if (shareNetwork) args.Insert(1, "--share-net");
        foreach (var (name, value) in environment) args.AddRange(["--setenv", name, value ?? ""]);
        foreach (var p in SystemPaths) args.AddRange(["--ro-bind-try", p, p]);
        args.AddRange(["--ro-bind", deno, deno]);
        // Deno's own cache (the host scripts compiled by the trusted snapshot run), read-only: without it every start
        // would compile them again. Deno's permissions do not let sandboxed code read it.
        if (environment.FirstOrDefault(e => e.Key == "DENO_DIR").Value is { Length: > 0 } denoDir) args.AddRange(["--ro-bind-try", denoDir, denoDir]);
        foreach (var p in readable) args.AddRange(["--ro-bind-try", p, p]);
        foreach (var d in writable) args.AddRange(["--bind", d, d]);
        args.AddRange(["--remount-ro", "/", "--", deno]);
        args.AddRange(denoArgs);
        return args;
    }

    private static IEnumerable<string> Values(IEnumerable<string> args, string prefix) =>
        args.Where(a => a.StartsWith(prefix, StringComparison.Ordinal)).SelectMany(a => a[prefix.Length..].Split(',', StringSplitOptions.RemoveEmptyEntries));

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "bwrap"))
            .FirstOrDefault(File.Exists);
        if (path is null) return null;
        var shell = File.Exists("/bin/true") ? "/bin/true" : "/usr/bin/true";
        try
        {
            var info = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in (string[])["--unshare-all", "--unshare-user", "--die-with-parent", "--ro-bind", "/", "/", shell]) info.ArgumentList.Add(a);
            using var probe = Process.Start(info)!;
            if (!probe.WaitForExit(10_000))
            {
                probe.Kill();
                return null;
            }

            return probe.ExitCode == 0 ? path : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
