using System.Text.RegularExpressions;

namespace Ratchet.Yaml;

/// <summary>
/// Replaces secret values with <c>***</c> in what Ratchet records: command lines, output tails and logs. Secrets are
/// the values of environment variables whose names look secret (TOKEN, SECRET, PASSWORD, API_KEY, ...), plus any
/// value added explicitly (an agent's API key).
/// </summary>
public sealed partial class SecretRedactor
{
    /// <summary>What a secret is replaced with.</summary>
    public const string Mask = "***";

    private readonly string[] _secrets;

    /// <summary>A redactor for the given secret values (values shorter than 4 characters are ignored: too common to mask).</summary>
    public SecretRedactor(IEnumerable<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);

        // Longest first, so that a secret containing another is masked whole.
        _secrets = secrets.Where(s => s.Length >= 4).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length).ToArray();
    }

    /// <summary>A redactor that masks nothing.</summary>
    public static SecretRedactor None { get; } = new([]);

    /// <summary>Whether an environment variable's name says it holds a secret.</summary>
    public static bool IsSecretName(string name) => SecretName().IsMatch(name);

    /// <summary>A redactor for every secret-named variable of <paramref name="environment"/> and the extra values.</summary>
    public static SecretRedactor FromEnvironment(IEnumerable<KeyValuePair<string, string?>> environment, IEnumerable<string>? extra = null) =>
        new(environment.Where(e => e.Value is not null && IsSecretName(e.Key)).Select(e => e.Value!).Concat(extra ?? []));

    /// <summary>The same secrets plus <paramref name="more"/>.</summary>
    public SecretRedactor With(IEnumerable<string> more) => new(_secrets.Concat(more));

    /// <summary><paramref name="text"/> with every secret masked.</summary>
    public string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var secret in _secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    [GeneratedRegex("(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();
}
