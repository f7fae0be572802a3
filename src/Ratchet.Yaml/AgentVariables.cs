using System.Globalization;
using Ratchet.Agents;

namespace Ratchet.Yaml;

/// <summary>
/// The environment a node with <c>agent: NAME</c> runs its command in: the profile's settings as <c>RATCHET_AGENT_*</c>
/// variables, with the API key declared secret so that it is masked wherever Ratchet records the command's output.
/// </summary>
internal static class AgentVariables
{
    /// <summary>The variables set for every agent; an unset setting is an empty value, never one inherited from the parent.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        "RATCHET_AGENT_NAME", "RATCHET_AGENT_KIND", "RATCHET_AGENT_AVATAR", "RATCHET_AGENT_PROVIDER", "RATCHET_AGENT_BASE_URL",
        "RATCHET_AGENT_API_KEY", "RATCHET_AGENT_MODEL", "RATCHET_AGENT_SYSTEM_PROMPT", "RATCHET_AGENT_TOOLS",
        "RATCHET_AGENT_TEMPERATURE", "RATCHET_AGENT_MAX_TOKENS",
    ];

    /// <summary>The environment for <paramref name="agent"/>.</summary>
    public static AgentEnvironment For(ResolvedAgent agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var profile = agent.Profile;
        var variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RATCHET_AGENT_NAME"] = profile.Name,
            ["RATCHET_AGENT_KIND"] = profile.Kind.ToString().ToLowerInvariant(),
            ["RATCHET_AGENT_AVATAR"] = profile.Avatar ?? "",
            ["RATCHET_AGENT_PROVIDER"] = agent.Provider.Name,
            ["RATCHET_AGENT_BASE_URL"] = agent.Provider.BaseUrl ?? "",
            ["RATCHET_AGENT_API_KEY"] = agent.ApiKey ?? "",
            ["RATCHET_AGENT_MODEL"] = profile.Model,
            ["RATCHET_AGENT_SYSTEM_PROMPT"] = profile.SystemPrompt ?? "",
            ["RATCHET_AGENT_TOOLS"] = string.Join(',', profile.Tools),
            ["RATCHET_AGENT_TEMPERATURE"] = profile.Temperature?.ToString("R", CultureInfo.InvariantCulture) ?? "",
            ["RATCHET_AGENT_MAX_TOKENS"] = profile.MaxTokens?.ToString(CultureInfo.InvariantCulture) ?? "",
        };
        return new AgentEnvironment(variables, agent.ApiKey is { Length: > 0 } key ? [key] : []);
    }

    /// <summary>A <see cref="ShellOptions.ResolveAgent"/> that looks agents up in <paramref name="directory"/>.</summary>
    public static Func<string, CancellationToken, Task<AgentEnvironment>> Resolver(AgentDirectory directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return async (name, cancellationToken) => For(await directory.ResolveAsync(name, cancellationToken));
    }
}
