using System.Text.Json.Serialization;
using Ratchet.Secrets;

namespace Ratchet.Agents;

/// <summary>
/// An LLM provider's credentials as stored: the API key only ever as ciphertext (see <see cref="SecretBox"/>).
/// Read the key in clear with <see cref="AgentDirectory.RevealApiKeyAsync"/>.
/// </summary>
public sealed record ProviderRecord
{
    /// <summary>The provider's name, a slug (see <see cref="AgentNames"/>).</summary>
    public required string Name { get; init; }

    /// <summary>The API's base URL (http or https); null for the client's default.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>Whether agents may use it. An inactive provider keeps its key but agents using it refuse to run.</summary>
    public bool IsActive { get; init; } = true;

    /// <summary>The API key's envelope (<c>v1:KEYID:NONCE:CIPHERTEXT</c>); null when the provider needs no key.</summary>
    public string? EncryptedApiKey { get; init; }

    /// <summary>When it was added.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The stored entry's version (optimistic concurrency); not part of the stored document.</summary>
    [JsonIgnore]
    public long Version { get; init; }

    /// <summary>Whether an API key is stored.</summary>
    [JsonIgnore]
    public bool HasApiKey => EncryptedApiKey is not null;

    /// <summary>The id of the master key the API key is encrypted under; null without a key.</summary>
    [JsonIgnore]
    public string? ApiKeyMasterKeyId => EncryptedApiKey is null ? null : SecretBox.KeyIdOf(EncryptedApiKey);
}

/// <summary>A provider to add. The API key is given in clear and encrypted before it is stored.</summary>
public sealed record NewProvider
{
    /// <summary>The name, a slug.</summary>
    public required string Name { get; init; }

    /// <summary>The API key in clear; null for a provider that needs none (a local model server).</summary>
    public string? ApiKey { get; init; }

    /// <summary>The API's base URL (http or https); null for the default.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>Whether agents may use it. Default true.</summary>
    public bool IsActive { get; init; } = true;

    /// <inheritdoc />
    public override string ToString() => $"NewProvider {{ Name = {Name}, ApiKey = {(ApiKey is null ? "none" : "(hidden)")}, BaseUrl = {BaseUrl}, IsActive = {IsActive} }}";
}

/// <summary>Changes to a provider; null properties are left as they are.</summary>
public sealed record ProviderChanges
{
    /// <summary>A new API key in clear; null keeps the stored one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>Whether to delete the stored API key (ignored when <see cref="ApiKey"/> is set).</summary>
    public bool RemoveApiKey { get; init; }

    /// <summary>A new base URL; null keeps it, an empty string removes it.</summary>
    public string? BaseUrl { get; init; }

    /// <summary>Activates or deactivates; null keeps it.</summary>
    public bool? IsActive { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"ProviderChanges {{ ApiKey = {(ApiKey is null ? "unchanged" : "(hidden)")}, RemoveApiKey = {RemoveApiKey}, BaseUrl = {BaseUrl}, IsActive = {IsActive} }}";
}

/// <summary>How <see cref="AgentDirectory.RemoveProviderAsync"/> treats agent profiles that use the provider.</summary>
public sealed record ProviderRemoval
{
    /// <summary>Remove those profiles too, in the same commit. Default false: refuse while any uses it.</summary>
    public bool Cascade { get; init; }
}
