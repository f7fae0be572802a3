using System.Text.Json.Serialization;

namespace Ratchet.Agents;

/// <summary>
/// An agent profile: which provider and model an agent uses, its role, system prompt, tools and sampling parameters.
/// A YAML node with <c>agent: NAME</c> runs its command with these settings in <c>RATCHET_AGENT_*</c> variables.
/// </summary>
public sealed record AgentProfile
{
    /// <summary>The name, a slug (see <see cref="AgentNames"/>).</summary>
    public required string Name { get; init; }

    /// <summary>An avatar for user interfaces: an emoji, a short text or an image URL. Optional.</summary>
    public string? Avatar { get; init; }

    /// <summary>The agent's role. Default <see cref="AgentKind.Generalist"/>.</summary>
    public AgentKind Kind { get; init; } = AgentKind.Generalist;

    /// <summary>The provider's name; it must exist.</summary>
    public required string Provider { get; init; }

    /// <summary>The model id, as the provider names it (e.g. <c>gpt-4o</c>, <c>claude-sonnet-4</c>).</summary>
    public required string Model { get; init; }

    /// <summary>The system prompt; optional.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>Tool names the agent may use (e.g. MCP tools), in order.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    /// <summary>Sampling temperature, 0 to 2; null for the provider's default.</summary>
    public double? Temperature { get; init; }

    /// <summary>The most tokens a response may have; null for the provider's default.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>When it was added.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The stored entry's version (optimistic concurrency); not part of the stored document.</summary>
    [JsonIgnore]
    public long Version { get; init; }
}
