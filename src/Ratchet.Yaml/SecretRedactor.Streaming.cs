using System.Text;

namespace Ratchet.Yaml;

public sealed partial class SecretRedactor
{
    /// <summary>The length of the longest secret (0 when there are none).</summary>
    internal int LongestSecret => _secrets.Length == 0 ? 0 : _secrets[0].Length;

    /// <summary>A redactor for text that arrives in pieces (a command's output, read a chunk at a time).</summary>
    internal StreamingRedactor Streaming() => new(this);

    /// <summary>Whether <paramref name="text"/> is the beginning of a secret (and not all of it).</summary>
    internal bool StartsASecret(ReadOnlySpan<char> text)
    {
        foreach (var secret in _secrets)
        {
            if (secret.Length > text.Length && secret.AsSpan().StartsWith(text, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Where the secrets are in <paramref name="text"/>: non-overlapping ranges, sorted, longest secrets claimed first
    /// (as <see cref="Redact"/> masks a secret containing another whole).
    /// </summary>
    internal List<(int Start, int End)> Occurrences(string text)
    {
        var found = new List<(int Start, int End)>();
        if (_secrets.Length == 0)
        {
            return found;
        }

        bool[]? masked = null;
        foreach (var secret in _secrets)
        {
            var from = 0;
            int at;
            while (from <= text.Length - secret.Length && (at = text.IndexOf(secret, from, StringComparison.Ordinal)) >= 0)
            {
                masked ??= new bool[text.Length];
                if (Array.IndexOf(masked, true, at, secret.Length) >= 0)
                {
                    // Part of a longer secret already masked: a shorter one may still start inside it further on.
                    from = at + 1;
                    continue;
                }

                Array.Fill(masked, true, at, secret.Length);
                found.Add((at, at + secret.Length));
                from = at + secret.Length;
            }
        }

        found.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        return found;
    }

    /// <summary><paramref name="text"/> up to <paramref name="end"/>, with the secrets that lie wholly before it masked.</summary>
    internal static string MaskBefore(string text, List<(int Start, int End)> occurrences, int end)
    {
        if (occurrences.Count == 0 || occurrences[0].Start >= end)
        {
            return end == text.Length ? text : text[..end];
        }

        var masked = new StringBuilder(end);
        var at = 0;
        foreach (var (start, stop) in occurrences)
        {
            if (stop > end)
            {
                break;
            }

            masked.Append(text, at, start - at).Append(SecretRedactor.Mask);
            at = stop;
        }

        return masked.Append(text, at, end - at).ToString();
    }
}

/// <summary>
/// Masks secrets in text that arrives in pieces, so that a secret split between two reads is masked whole: each piece
/// gives back what is safe to pass on, holding back only an end that could be the start of a secret (at most the longest
/// secret's length less one character), and <see cref="Flush"/> gives the rest at the end. Neither lines nor the size of
/// the pieces matter, so a secret spanning a line break is masked too.
/// </summary>
internal sealed class StreamingRedactor(SecretRedactor redactor)
{
    private string _held = "";

    /// <summary>How many characters are held back now.</summary>
    public int Held => _held.Length;

    /// <summary>Takes <paramref name="piece"/> and gives back the masked text that can be passed on now.</summary>
    public string Push(ReadOnlySpan<char> piece)
    {
        var longest = redactor.LongestSecret;
        if (longest == 0)
        {
            return piece.ToString();
        }

        var text = string.Concat(_held, piece);
        var occurrences = redactor.Occurrences(text);
        var safe = SafeEnd(text, occurrences, longest);
        _held = text[safe..];
        return SecretRedactor.MaskBefore(text, occurrences, safe);
    }

    /// <summary>The end of the stream: gives back what was held back, masked.</summary>
    public string Flush()
    {
        var text = _held;
        _held = "";
        return text.Length == 0 ? text : SecretRedactor.MaskBefore(text, redactor.Occurrences(text), text.Length);
    }

    /// <summary>
    /// How much of <paramref name="text"/> can be passed on: up to the first position from which the rest could be the
    /// start of a secret that the next piece completes, and never into the middle of a secret found whole.
    /// </summary>
    private int SafeEnd(string text, List<(int Start, int End)> occurrences, int longest)
    {
        var safe = text.Length;
        for (var at = Math.Max(0, text.Length - (longest - 1)); at < text.Length; at++)
        {
            if (redactor.StartsASecret(text.AsSpan(at)))
            {
                safe = at;
                break;
            }
        }

        // The occurrences do not overlap, so at most one contains the cut.
        foreach (var (start, end) in occurrences)
        {
            if (start < safe && safe < end)
            {
                return start;
            }
        }

        return safe;
    }
}
