using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using AnyDefNet.Packages;

namespace AnyDefNet.Sandbox.Internal;

internal sealed partial class HostProcess
{
    // Package folders of live hosts; any left when the application ends are removed.
    private static readonly ConcurrentDictionary<string, byte> LivePackageDirectories = CreatePendingRegistry();

    /// <summary>
    /// This host's own folder under the cache, readable by it from launch and empty until its function's packages are
    /// linked in, so a host started ahead of time (a spare) can serve a function with packages.
    /// </summary>
    public string? PackageDirectory { get; private set; }

    private static string CreatePackageDirectory(RuntimeLocation location)
    {
        string dir;
        try
        {
            dir = Directory.CreateDirectory(Path.Combine(location.CacheDirectory, "hosts", Guid.NewGuid().ToString("N"))).FullName;
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // A read-only cache (a published application on a read-only home): the temp folder, as for the socket.
            try
            {
                dir = Directory.CreateTempSubdirectory($"{SocketDirectoryPrefix}{Environment.ProcessId}-pkg-").FullName;
            }
            catch (Exception inner) when (inner is UnauthorizedAccessException or IOException)
            {
                throw HostTransport.TemporaryFolderUnusable(inner);
            }
        }

        LivePackageDirectories.TryAdd(dir, 0);
        return dir;
    }

    private void RemovePackageDirectory()
    {
        if (PackageDirectory is not { } dir) return;
        TryDeleteDirectory(dir);
        LivePackageDirectories.TryRemove(dir, out _);
    }

    /// <summary>
    /// Makes the verified package files readable by this host (hard links where possible, copies otherwise); returns their
    /// paths here. With <paramref name="replace"/>, files already there (found changed) are replaced.
    /// </summary>
    public IReadOnlyList<string> ProvidePackages(IReadOnlyList<InstalledPackage> packages, bool replace = false)
    {
        var dir = PackageDirectory ?? throw new InvalidOperationException("The host has no package folder.");
        var paths = new List<string>(packages.Count);
        foreach (var p in packages)
        {
            var target = Path.Combine(dir, p.FileName);
            if (replace) TryDelete(target);
            if (!File.Exists(target) && !TryLink(p.Path, target)) File.Copy(p.Path, target);
            paths.Add(target);
        }

        return paths;
    }

    // A hard link costs no copy and no space; it needs the same file system, else the file is copied.
    private static bool TryLink(string existing, string created)
    {
        if (OperatingSystem.IsWindows()) return false;
        try
        {
            return HardLink(existing, created) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int HardLink([MarshalAs(UnmanagedType.LPUTF8Str)] string existing, [MarshalAs(UnmanagedType.LPUTF8Str)] string created);
}
