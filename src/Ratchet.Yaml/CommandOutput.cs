using System.Globalization;
using System.Text;

namespace Ratchet.Yaml;

/// <summary>
/// Standard output kept whole for the node's artifact, up to a cap in UTF-8 bytes. Past the cap it keeps counting but
/// holds nothing (what it held is let go too: the node fails and its output is not used), so memory stays bounded
/// however much a command prints.
/// </summary>
internal sealed class OutputCapture(long maxBytes)
{
    private StringBuilder? _text = new();

    // The first half of a surrogate pair that ended a read: the pair is 4 bytes, each half alone would count as 3.
    private bool _highSurrogatePending;

    /// <summary>How many bytes were written in all, kept or not.</summary>
    public long Bytes { get; private set; }

    /// <summary>Whether more than the cap was written.</summary>
    public bool Overflowed => Bytes > maxBytes;

    /// <summary>What was written, while it is within the cap; empty past it.</summary>
    public string Text => _text?.ToString() ?? "";

    public void Append(ReadOnlySpan<char> chunk)
    {
        Bytes += CountBytes(chunk);
        if (_text is null)
        {
            return;
        }

        if (Overflowed)
        {
            _text = null;
            return;
        }

        _text.Append(chunk);
    }

    private long CountBytes(ReadOnlySpan<char> chunk)
    {
        long bytes = 0;
        if (_highSurrogatePending && chunk.Length > 0)
        {
            _highSurrogatePending = false;
            if (char.IsLowSurrogate(chunk[0]))
            {
                bytes += 4;
                chunk = chunk[1..];
            }
            else
            {
                bytes += 3;
            }
        }

        if (chunk.Length > 0 && char.IsHighSurrogate(chunk[^1]))
        {
            _highSurrogatePending = true;
            chunk = chunk[..^1];
        }

        return bytes + Encoding.UTF8.GetByteCount(chunk);
    }
}

/// <summary>
/// The last characters of a stream (already masked), however long its lines: what the audit records. A tail cut from
/// a longer stream starts at a line's start when it holds a line break, and loses one final line break, as lines
/// joined would.
/// </summary>
internal sealed class OutputTail(int maxChars)
{
    // A few characters beyond the tail, to see the line break before the cut and the final one.
    private readonly int _keep = Math.Max(0, maxChars) + 8;
    private readonly StringBuilder _text = new();

    public void Append(ReadOnlySpan<char> text)
    {
        if (maxChars <= 0)
        {
            return;
        }

        if (text.Length >= _keep)
        {
            _text.Clear().Append(text[^_keep..]);
            return;
        }

        _text.Append(text);

        // Trimmed only when twice over, so that a stream of small writes does not move the buffer at each one.
        if (_text.Length > 2 * _keep)
        {
            _text.Remove(0, _text.Length - _keep);
        }
    }

    public override string ToString()
    {
        var text = _text.ToString();
        if (text.EndsWith('\n'))
        {
            text = text[..^(text.EndsWith("\r\n", StringComparison.Ordinal) ? 2 : 1)];
        }

        if (text.Length <= maxChars)
        {
            return text;
        }

        var start = text.Length - maxChars;
        var tail = text[start..];
        return text[start - 1] != '\n' && tail.IndexOf('\n', StringComparison.Ordinal) is >= 0 and var lineBreak ? tail[(lineBreak + 1)..] : tail;
    }
}

/// <summary>
/// A node's log file for one attempt: Ratchet's own lines (the header, how it ended) and both output streams, already
/// masked, each stream's lines kept whole and standard error's prefixed. What the streams write is capped at a number
/// of UTF-8 bytes: at the cap a line says the log was cut, the rest is counted and dropped, and before Ratchet's closing
/// line another says how much was not logged. Safe for both streams' pumps at once.
/// </summary>
internal sealed class NodeLog : IAsyncDisposable
{
    /// <summary>A line longer than this is written in pieces as it comes rather than held until it ends.</summary>
    internal const int LongLine = 16 * 1024;

    private readonly StreamWriter? _writer;
    private readonly long _maxBytes;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _written;
    private long _dropped;
    private long _reported;
    private bool _cut;
    private bool _atLineStart = true;
    private bool _disposed;

    // The stream whose line the file now ends in the middle of (a long line written in pieces), if any.
    private Source? _open;

    /// <param name="path">The file, appended to; null for no log.</param>
    /// <param name="maxBytes">How much the output streams may write to it.</param>
    public NodeLog(string? path, long maxBytes)
    {
        _maxBytes = Math.Max(0, maxBytes);
        _writer = path is null ? null : new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    /// <summary>How many bytes of output were dropped at the cap.</summary>
    public long Dropped => _dropped;

    /// <summary>One output stream of the command, whose lines start with <paramref name="prefix"/> in the log.</summary>
    public Source CreateSource(string prefix) => new(prefix);

    /// <summary>Writes one of Ratchet's own lines (never capped), after the line a stream left open and the note of what the cap dropped.</summary>
    public async Task WriteLineAsync(string line)
    {
        if (_writer is null)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            var text = new StringBuilder();
            if (!_atLineStart)
            {
                text.Append('\n');
                _open = null;
            }

            if (_dropped > _reported)
            {
                var dropped = _dropped - _reported;
                var size = dropped < 1024 ? Sizes.Format(dropped) : string.Create(CultureInfo.InvariantCulture, $"{Sizes.Format(dropped)} ({dropped} bytes)");
                text.Append(CultureInfo.InvariantCulture, $"== {size} of output not logged: the log keeps {Sizes.Format(_maxBytes)} of output per attempt\n");
                _reported = _dropped;
            }

            await _writer.WriteAsync(text.Append(line).Append('\n').ToString());
            _atLineStart = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes masked output of <paramref name="stream"/>: its complete lines now, the rest when its line ends (or grows long).</summary>
    public async Task WriteAsync(Source stream, string text)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_writer is null || text.Length == 0)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            var lastBreak = text.LastIndexOf('\n');
            if (lastBreak >= 0)
            {
                var lines = stream.Partial.Length == 0 ? text[..(lastBreak + 1)] : stream.Partial.Append(text, 0, lastBreak + 1).ToString();
                stream.Partial.Clear().Append(text, lastBreak + 1, text.Length - lastBreak - 1);
                await EmitAsync(stream, lines);
            }
            else
            {
                stream.Partial.Append(text);
            }

            if (stream.Partial.Length >= LongLine)
            {
                var piece = stream.Partial.ToString();
                stream.Partial.Clear();
                await EmitAsync(stream, piece);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The end of <paramref name="stream"/>: its last line is written, ended as a line.</summary>
    public async Task CompleteAsync(Source stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (_writer is null)
        {
            return;
        }

        await _gate.WaitAsync();
        try
        {
            if (_disposed)
            {
                return;
            }

            if (_cut)
            {
                // Counted without the line break that would have ended it: that is not output.
                _dropped += Encoding.UTF8.GetByteCount(stream.Partial.ToString());
                stream.Partial.Clear();
            }
            else if (stream.Partial.Length > 0 || _open == stream)
            {
                var last = stream.Partial.Append('\n').ToString();
                stream.Partial.Clear();
                await EmitAsync(stream, last);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync();
        try
        {
            _disposed = true;
            if (_writer is not null)
            {
                await _writer.DisposeAsync();
            }
        }
        finally
        {
            _gate.Release();
        }

        // The gate is not disposed: a pump left running after a stop may still knock, and must find the log closed, not throw.
    }

    /// <summary>Writes lines (or a piece of a long line) of <paramref name="stream"/>, prefixed, within the cap.</summary>
    private async Task EmitAsync(Source stream, string text)
    {
        if (_cut)
        {
            _dropped += Encoding.UTF8.GetByteCount(text);
            return;
        }

        var builder = new StringBuilder(text.Length + stream.Prefix.Length + 1);
        if (_open != stream)
        {
            if (!_atLineStart)
            {
                // Another stream's long line is still open; end it in the file so that this one starts a line of its own.
                builder.Append('\n');
            }

            builder.Append(stream.Prefix);
        }

        if (stream.Prefix.Length == 0)
        {
            builder.Append(text);
        }
        else
        {
            var at = 0;
            for (var lineBreak = text.IndexOf('\n'); lineBreak >= 0 && lineBreak < text.Length - 1; lineBreak = text.IndexOf('\n', at))
            {
                builder.Append(text, at, lineBreak + 1 - at).Append(stream.Prefix);
                at = lineBreak + 1;
            }

            builder.Append(text, at, text.Length - at);
        }

        _open = text.EndsWith('\n') ? null : stream;
        await WriteCappedAsync(builder.ToString());
    }

    private async Task WriteCappedAsync(string text)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (_written + bytes <= _maxBytes)
        {
            await _writer!.WriteAsync(text);
            _written += bytes;
            _atLineStart = text.EndsWith('\n');
            return;
        }

        var fits = CharsWithin(text, _maxBytes - _written);
        var kept = Encoding.UTF8.GetByteCount(text.AsSpan(0, fits));
        await _writer!.WriteAsync(text.AsMemory(0, fits));
        _written += kept;
        _dropped += bytes - kept;
        _cut = true;
        _open = null;
        var atLineStart = fits == 0 ? _atLineStart : text[fits - 1] == '\n';
        await _writer.WriteAsync($"{(atLineStart ? "" : "\n")}== log cut at {Sizes.Format(_maxBytes)}: the rest of this attempt's output is not logged\n");
        _atLineStart = true;
    }

    /// <summary>How many characters of <paramref name="text"/> fit in <paramref name="room"/> UTF-8 bytes, without splitting a surrogate pair.</summary>
    internal static int CharsWithin(string text, long room)
    {
        var count = (int)Math.Min(text.Length, Math.Max(0, room));
        for (var excess = Encoding.UTF8.GetByteCount(text.AsSpan(0, count)) - room; excess > 0; excess = Encoding.UTF8.GetByteCount(text.AsSpan(0, count)) - room)
        {
            // A character is at most 3 bytes (a surrogate pair 4 for 2), so this never removes more than needed by much.
            count -= (int)Math.Max(1, (excess + 2) / 3);
        }

        if (count > 0 && char.IsHighSurrogate(text[count - 1]))
        {
            count--;
        }

        return count;
    }

    /// <summary>One output stream's state in the log: its prefix and the line it has begun.</summary>
    internal sealed class Source(string prefix)
    {
        public string Prefix { get; } = prefix;

        public StringBuilder Partial { get; } = new();
    }
}

/// <summary>
/// One output stream of a command on its way to where it is kept: masked as it comes (a secret split between two reads
/// included), then into the log and the tail; standard output also, unmasked, into the artifact's capture.
/// </summary>
internal sealed class StreamCapture
{
    private readonly StreamingRedactor _redactor;
    private readonly NodeLog _log;
    private readonly NodeLog.Source _source;

    /// <param name="redactor">The secrets to mask.</param>
    /// <param name="log">The node's log.</param>
    /// <param name="prefix">What the stream's lines start with in the log.</param>
    /// <param name="tailChars">How much of its end to keep.</param>
    /// <param name="maxOutputBytes">For standard output, the artifact's cap; null to keep nothing whole.</param>
    public StreamCapture(SecretRedactor redactor, NodeLog log, string prefix, int tailChars, long? maxOutputBytes)
    {
        _redactor = redactor.Streaming();
        _log = log;
        _source = log.CreateSource(prefix);
        Tail = new OutputTail(tailChars);
        Output = maxOutputBytes is { } max ? new OutputCapture(max) : null;
    }

    /// <summary>The stream whole (unmasked, up to the cap), when asked for.</summary>
    public OutputCapture? Output { get; }

    /// <summary>The stream's end, masked.</summary>
    public OutputTail Tail { get; }

    public async Task AppendAsync(ReadOnlyMemory<char> chunk)
    {
        Output?.Append(chunk.Span);
        var masked = _redactor.Push(chunk.Span);
        Tail.Append(masked);
        await _log.WriteAsync(_source, masked);
    }

    /// <summary>The end of the stream: what the redactor held back goes on, and the last line is ended.</summary>
    public async Task CompleteAsync()
    {
        var rest = _redactor.Flush();
        Tail.Append(rest);
        await _log.WriteAsync(_source, rest);
        await _log.CompleteAsync(_source);
    }
}

/// <summary>Sizes as people read them.</summary>
internal static class Sizes
{
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => In(bytes, 1L << 30, "GiB"),
        >= 1L << 20 => In(bytes, 1L << 20, "MiB"),
        >= 1L << 10 => In(bytes, 1L << 10, "KiB"),
        1 => "1 byte",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };

    private static string In(long bytes, long unit, string name) =>
        (bytes / (double)unit).ToString(bytes % unit == 0 ? "0" : "0.#", CultureInfo.InvariantCulture) + " " + name;
}
