using System.Globalization;
using System.Text.RegularExpressions;

namespace Ratchet.Agents;

/// <summary>The rules for providers' and agent profiles' settings; every check lists all problems at once.</summary>
internal static partial class AgentNames
{
    /// <summary>The longest name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The longest system prompt, in characters.</summary>
    public const int MaxSystemPromptLength = 100_000;

    /// <summary>The largest <see cref="AgentProfile.MaxTokens"/>.</summary>
    public const int MaxTokensLimit = 10_000_000;

    /// <summary>Whether <paramref name="name"/> is a slug: lowercase letters, digits and single hyphens, 1 to 64 characters.</summary>
    public static bool IsSlug(string? name) => name is { Length: > 0 and <= MaxNameLength } && Slug().IsMatch(name);

    /// <summary>Throws <see cref="AgentSettingsException"/> unless the provider to add is valid.</summary>
    public static void Validate(NewProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var problems = new List<string>();
        CheckName(provider.Name, problems);
        CheckApiKey(provider.ApiKey, problems);
        CheckBaseUrl(provider.BaseUrl, problems);
        Throw($"Provider '{provider.Name}'", problems);
    }

    /// <summary>Throws <see cref="AgentSettingsException"/> unless the changes are valid.</summary>
    public static void Validate(string name, ProviderChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var problems = new List<string>();
        CheckApiKey(changes.ApiKey, problems);
        if (changes.BaseUrl is { Length: > 0 })
        {
            CheckBaseUrl(changes.BaseUrl, problems);
        }

        Throw($"The change to provider '{name}'", problems);
    }

    /// <summary>Throws <see cref="AgentSettingsException"/> unless the profile is valid (its provider's existence is checked on commit).</summary>
    public static void Validate(AgentProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var problems = new List<string>();
        CheckName(profile.Name, problems);
        if (!Enum.IsDefined(profile.Kind))
        {
            problems.Add($"kind {(int)profile.Kind} is not one of planner, generalist, specialist, executor");
        }

        if (!IsSlug(profile.Provider))
        {
            problems.Add($"provider '{profile.Provider}' is not a provider name (a slug)");
        }

        if (string.IsNullOrWhiteSpace(profile.Model) || profile.Model.Length > 200 || profile.Model.Any(char.IsControl) || profile.Model.Any(char.IsWhiteSpace))
        {
            problems.Add($"model '{profile.Model}' must be 1 to 200 characters without spaces or control characters");
        }

        if (profile.Avatar is { } avatar && (avatar.Length is 0 or > 2048 || avatar.Any(char.IsControl)))
        {
            problems.Add("avatar must be 1 to 2048 characters without control characters (an emoji, a short text or a URL)");
        }

        if (profile.SystemPrompt is { Length: > MaxSystemPromptLength } prompt)
        {
            problems.Add($"system prompt is {prompt.Length.ToString(CultureInfo.InvariantCulture)} characters; the limit is {MaxSystemPromptLength.ToString(CultureInfo.InvariantCulture)}");
        }

        foreach (var tool in profile.Tools ?? [])
        {
            if (!Tool().IsMatch(tool ?? ""))
            {
                problems.Add($"tool '{tool}' must be 1 to 128 letters, digits or . _ : / - (no commas or spaces)");
            }
        }

        if (profile.Tools?.Distinct(StringComparer.Ordinal).Count() != profile.Tools?.Count)
        {
            problems.Add("tools are listed more than once");
        }

        if (profile.Temperature is { } temperature && !(temperature is >= 0 and <= 2))
        {
            problems.Add($"temperature {temperature.ToString(CultureInfo.InvariantCulture)} is outside 0 to 2");
        }

        if (profile.MaxTokens is { } maxTokens && maxTokens is < 1 or > MaxTokensLimit)
        {
            problems.Add($"max tokens {maxTokens.ToString(CultureInfo.InvariantCulture)} is outside 1 to {MaxTokensLimit.ToString(CultureInfo.InvariantCulture)}");
        }

        Throw($"Agent profile '{profile.Name}'", problems);
    }

    private static void CheckName(string name, List<string> problems)
    {
        if (!IsSlug(name))
        {
            problems.Add($"name '{name}' must be a slug: 1 to {MaxNameLength} lowercase letters, digits and single hyphens, starting and ending with a letter or digit");
        }
    }

    private static void CheckApiKey(string? apiKey, List<string> problems)
    {
        // Never quote the key: this message may be printed and logged.
        if (apiKey is not null && (apiKey.Length is 0 or > 4096 || apiKey.Any(char.IsControl) || apiKey != apiKey.Trim()))
        {
            problems.Add("API key must be 1 to 4096 characters without control characters or surrounding spaces");
        }
    }

    private static void CheckBaseUrl(string? baseUrl, List<string> problems)
    {
        if (baseUrl is not null && !(Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && string.IsNullOrEmpty(uri.UserInfo)))
        {
            var shown = baseUrl.Contains('@', StringComparison.Ordinal) ? "(not shown: it holds credentials)" : baseUrl;
            problems.Add($"base URL '{shown}' must be an absolute http or https URL without credentials in it");
        }
    }

    private static void Throw(string what, List<string> problems)
    {
        if (problems.Count > 0)
        {
            throw new AgentSettingsException(what, problems);
        }
    }

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex Slug();

    [GeneratedRegex("^[A-Za-z0-9._:/-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex Tool();
}
