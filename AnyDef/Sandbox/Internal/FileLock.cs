namespace AnyDefNet.Sandbox.Internal;

/// <summary>A lock across processes (an exclusively opened file), for one-time set-up steps shared by every AnyDef process.</summary>
internal static class FileLock
{
    public static async Task<FileStream> AcquireAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                try
                {
                    await Task.Delay(100, cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new SandboxUnavailableException($"Another process has held '{path}' for more than {timeout.TotalMinutes:0} minutes. If no AnyDef process is running, delete the file.");
                }
            }
        }
    }
}
