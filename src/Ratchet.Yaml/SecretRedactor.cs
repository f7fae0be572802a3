using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ratchet.Secrets;
using Ratchet.Storage;

namespace Ratchet.Yaml;

/// <summary>
/// Replaces secret values with <c>***</c> in what Ratchet records: command lines, output tails and logs. Secrets are
/// the values of environment variables whose names look secret (TOKEN, SECRET, PASSWORD, API_KEY, ...), Ratchet's
/// own secrets (the master keys, the key file's path, the store's password), plus any value added explicitly (an
/// agent's API key). Each secret is found as written and in every form a command line or a command's output may
/// render it in: shell-quoted the way <c>run:</c> templates quote values, JSON-escaped, and URL-encoded.
/// </summary>
public sealed partial class SecretRedactor
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Mask = "***";

    /// <summary>The shortest secret masked: shorter values are too likely to appear by chance.</summary>
    public const int MinimumLength = 4;

    /// <summary>The variable the CLI reads the store URI from (its password is a secret; the rest of the URI is not).</summary>
    public const string StoreVariable = "RATCHET_STORE";

    private static readonly JsonSerializerOptions RelaxedJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string[] _secrets;
    private readonly string[] _forms;

    /// <summary>A redactor for the given secret values (values shorter than <see cref="MinimumLength"/> are ignored).</summary>
    public SecretRedactor(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        _secrets = secrets.Where(s => s is { Length: >= MinimumLength }).Distinct(StringComparer.Ordinal).ToArray();

        // Longest first, so that a secret containing another, or a form containing the raw value, is masked whole.
        _forms = _secrets.SelectMany(Forms).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();
    }

    /// <summary>A redactor that masks nothing.</summary>
    public static SecretRedactor None { get; } = new([]);

    /// <summary>Whether an environment variable's name says it holds a secret.</summary>
    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    /// <summary>
    /// A redactor for every secret of <paramref name="environment"/> (secret-named variables and Ratchet's own, see
    /// <see cref="RatchetSecretsOf"/>) and the extra values.
    /// </summary>
    public static SecretRedactor FromEnvironment(IEnumerable<KeyValuePair<string, string?>> environment, IEnumerable<string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var pairs = environment.ToArray();
        return new(pairs.Where(e => e.Value is not null && IsSecretName(e.Key)).Select(e => e.Value!)
            .Concat(pairs.SelectMany(e => RatchetSecretsOf(e.Key, e.Value)))
            .Concat(extra ?? []));
    }

    /// <summary>A redactor for the master keys in <paramref name="environment"/> only (<c>RATCHET_MASTER_KEY</c>, whole and key by key).</summary>
    public static SecretRedactor MasterKeysFromEnvironment(IEnumerable<KeyValuePair<string, string?>> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return new(environment.Where(e => e.Key == MasterKeySource.KeyVariable).SelectMany(e => RatchetSecretsOf(e.Key, e.Value)));
    }

    /// <summary>
    /// The secrets in one of Ratchet's own variables, whatever its name says: <c>RATCHET_MASTER_KEY</c> (whole, and each
    /// of its comma-separated keys), <c>RATCHET_MASTER_KEY_FILE</c> (the path), and the password in <c>RATCHET_STORE</c>
    /// (see <see cref="StoreUri.Passwords"/>). Nothing for other variables.
    /// </summary>
    public static IEnumerable<string> RatchetSecretsOf(string name, string? value)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        return name switch
        {
            MasterKeySource.KeyVariable => [value, .. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            MasterKeySource.KeyFileVariable => [value],
            StoreVariable => StoreUri.Passwords(value),
            _ => [],
        };
    }

    /// <summary>The same secrets plus <paramref name="more"/>.</summary>
    public SecretRedactor With(IEnumerable<string> more) => new(_secrets.Concat(more));

    /// <summary>The same secrets plus those of <paramref name="other"/>.</summary>
    public SecretRedactor With(SecretRedactor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other._secrets.Length == 0 ? this : With(other._secrets);
    }

    /// <summary><paramref name="text"/> with every secret masked.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var form in _forms)
        {
            if (text.Contains(form, StringComparison.Ordinal))
            {
                text = text.Replace(form, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary>How a secret can be written where Ratchet records it.</summary>
    private static IEnumerable<string> Forms(string secret)
    {
        yield return secret;

        // Inside the single quotes a run: template puts around a value (Template.RenderForShell): ' becomes '\''.
        yield return secret.Replace("'", "'\\''", StringComparison.Ordinal);

        // JSON strings, without their quotes: as Ratchet writes them (only " \ and controls escaped) and as
        // System.Text.Json does by default (also ' + < > & and non-ASCII as \uXXXX).
        yield return JsonSerializer.Serialize(secret, RelaxedJson)[1..^1];
        yield return JsonSerializer.Serialize(secret)[1..^1];

        // URL-encoded: in a URI (RFC 3986) and in a form or query string (space as +).
        yield return Uri.EscapeDataString(secret);
        yield return WebUtility.UrlEncode(secret);
    }

    [GeneratedRegex("(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|MASTER_?KEY|CREDENTIAL|AUTH)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();
}
