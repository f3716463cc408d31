using System.Text;
using CliWrap;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// The last bytes a host wrote to its standard output and error, kept for crash diagnosis. Sandboxed code can write
/// there, so both streams are read as raw chunks (never split into lines, whose length the writer decides) into one
/// fixed-size ring: whatever a function writes, this holds at most <see cref="Capacity"/> bytes.
/// </summary>
internal sealed class OutputTail(int capacity, Action<ReadOnlySpan<byte>>? observe = null)
{
    // One read's worth per stream; the only other memory the streams cost.
    private const int ChunkBytes = 16 * 1024;

    private readonly byte[] _ring = new byte[capacity];
    private readonly Lock _lock = new();
    private long _written;

    /// <summary>The most bytes kept.</summary>
    public int Capacity => _ring.Length;

    /// <summary>How many bytes were written in all (kept or not).</summary>
    public long Written
    {
        get
        {
            lock (_lock) return _written;
        }
    }

    /// <summary>A pipe target that drains a stream into this ring.</summary>
    public PipeTarget Target() => PipeTarget.Create(async (stream, cancellationToken) =>
    {
        var chunk = new byte[ChunkBytes];
        while (true)
        {
            var n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (n == 0) return;
            Append(chunk.AsSpan(0, n));
        }
    });

    /// <summary>Adds bytes at the end; the oldest go when the ring is full.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        observe?.Invoke(bytes);
        lock (_lock)
        {
            if (bytes.Length > _ring.Length) bytes = bytes[^_ring.Length..];
            var at = (int)(_written % _ring.Length);
            var first = Math.Min(bytes.Length, _ring.Length - at);
            bytes[..first].CopyTo(_ring.AsSpan(at));
            bytes[first..].CopyTo(_ring);
            _written += bytes.Length;
        }
    }

    /// <summary>What the ring holds, oldest first, as text (a character cut in two at the start shows as a replacement).</summary>
    public override string ToString()
    {
        lock (_lock)
        {
            if (_written <= _ring.Length) return Encoding.UTF8.GetString(_ring, 0, (int)_written);
            var at = (int)(_written % _ring.Length);
            var ordered = new byte[_ring.Length];
            _ring.AsSpan(at).CopyTo(ordered);
            _ring.AsSpan(0, at).CopyTo(ordered.AsSpan(_ring.Length - at));
            return Encoding.UTF8.GetString(ordered);
        }
    }
}
