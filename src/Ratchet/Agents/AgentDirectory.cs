using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Ratchet.Secrets;
using Ratchet.Storage;

namespace Ratchet.Agents;

/// <summary>Settings of an <see cref="AgentDirectory"/>.</summary>
public sealed record AgentDirectoryOptions
{
    /// <summary>
    /// Where the master keys come from; read only when a key is encrypted or decrypted, so listing and showing need
    /// none. Default: <see cref="MasterKeySource.FromEnvironment"/>.
    /// </summary>
    public MasterKeySource? MasterKeys { get; init; }

    /// <summary>The clock for created and updated times. Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// LLM providers (credentials) and agent profiles, stored as JSON documents in the reserved key-value namespaces
/// <see cref="ProvidersNamespace"/> and <see cref="AgentsNamespace"/> through the storage contract's change sets, so
/// every backend holds them with no code of its own. Each write is conditional on the versions it read; API keys are
/// stored only encrypted.
/// </summary>
/// <remarks>
/// A profile's link to its provider is kept consistent without foreign keys: adding or re-pointing a profile rewrites
/// its provider's entry unchanged at the version it read (moving that version on), and removing a provider deletes it
/// at the version it read before listing the profiles. Whichever commits second finds a version it did not expect
/// and runs again on fresh data, so a removal can never miss a profile added at the same moment.
/// </remarks>
public sealed class AgentDirectory
{
    /// <summary>The namespace of provider documents, keyed by name.</summary>
    public const string ProvidersNamespace = "ratchet.providers";

    /// <summary>The namespace of agent profile documents, keyed by name.</summary>
    public const string AgentsNamespace = "ratchet.agents";

    /// <summary>The stored property that holds an API key's ciphertext.</summary>
    public const string EncryptedApiKeyProperty = "encryptedApiKey";

    // Conflicts only come from concurrent edits of the same few entries: a handful of fresh reads settles them.
    private const int MaxAttempts = 8;

    private readonly IRatchetStore _store;
    private readonly AgentDirectoryOptions _options;

    /// <summary>A directory on <paramref name="store"/>.</summary>
    public AgentDirectory(IRatchetStore store, AgentDirectoryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _options = options ?? new AgentDirectoryOptions();
    }

    private MasterKeySource Keys => _options.MasterKeys ?? MasterKeySource.FromEnvironment();

    private DateTimeOffset Now => _options.TimeProvider.GetStoreNow();

    /// <summary>Adds a provider, encrypting its API key under the current master key.</summary>
    /// <exception cref="AgentSettingsException">Invalid settings.</exception>
    /// <exception cref="ProviderAlreadyExistsException">The name is taken.</exception>
    public async Task<ProviderRecord> AddProviderAsync(NewProvider provider, CancellationToken cancellationToken = default)
    {
        AgentNames.Validate(provider);
        var now = Now;
        var record = new ProviderRecord
        {
            Name = provider.Name,
            BaseUrl = provider.BaseUrl,
            IsActive = provider.IsActive,
            EncryptedApiKey = provider.ApiKey is null ? null : Encrypt(Keys.LoadOrCreate().Current, provider.Name, provider.ApiKey),
            CreatedAt = now,
            UpdatedAt = now,
        };
        try
        {
            await _store.CommitAsync(new ChangeSet().SaveValue(ProvidersNamespace, provider.Name, ToJson(record), expectedVersion: 0), cancellationToken);
        }
        catch (KeyValueConcurrencyException)
        {
            throw new ProviderAlreadyExistsException(provider.Name);
        }

        return record with { Version = 1 };
    }

    /// <summary>Changes a provider; a new API key is encrypted under the current master key.</summary>
    /// <exception cref="ProviderNotFoundException">There is no such provider.</exception>
    /// <exception cref="AgentSettingsException">Invalid changes.</exception>
    public async Task<ProviderRecord> UpdateProviderAsync(string name, ProviderChanges changes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(changes);
        AgentNames.Validate(name, changes);
        var encrypted = changes.ApiKey is null ? null : Encrypt(Keys.LoadOrCreate().Current, name, changes.ApiKey);
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetRequiredProviderAsync(name, cancellationToken);
            var updated = current with
            {
                BaseUrl = changes.BaseUrl is null ? current.BaseUrl : changes.BaseUrl.Length == 0 ? null : changes.BaseUrl,
                IsActive = changes.IsActive ?? current.IsActive,
                EncryptedApiKey = encrypted ?? (changes.RemoveApiKey ? null : current.EncryptedApiKey),
                UpdatedAt = Now,
            };
            if (await TryCommitAsync(new ChangeSet().SaveValue(ProvidersNamespace, name, ToJson(updated), current.Version), attempt, cancellationToken))
            {
                return updated with { Version = current.Version + 1 };
            }
        }
    }

    /// <summary>The provider, or null.</summary>
    public async Task<ProviderRecord?> GetProviderAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!AgentNames.IsSlug(name))
        {
            return null;
        }

        var entry = await _store.GetValueAsync(ProvidersNamespace, name, cancellationToken);
        return entry is null ? null : ReadProvider(entry);
    }

    /// <summary>The provider.</summary>
    /// <exception cref="ProviderNotFoundException">There is none.</exception>
    public async Task<ProviderRecord> GetRequiredProviderAsync(string name, CancellationToken cancellationToken = default) =>
        await GetProviderAsync(name, cancellationToken) ?? throw new ProviderNotFoundException(name);

    /// <summary>Every provider, ordered by name.</summary>
    public async Task<IReadOnlyList<ProviderRecord>> ListProvidersAsync(CancellationToken cancellationToken = default) =>
        (await _store.ListValuesAsync(ProvidersNamespace, cancellationToken)).Select(ReadProvider).ToArray();

    /// <summary>
    /// Removes a provider. Refused while agent profiles use it, unless <see cref="ProviderRemoval.Cascade"/>: then those
    /// profiles are removed in the same commit. Returns the profiles removed.
    /// </summary>
    /// <exception cref="ProviderNotFoundException">There is no such provider.</exception>
    /// <exception cref="ProviderInUseException">Profiles use it and the removal does not cascade.</exception>
    public async Task<IReadOnlyList<string>> RemoveProviderAsync(string name, ProviderRemoval? removal = null, CancellationToken cancellationToken = default)
    {
        removal ??= new ProviderRemoval();
        for (var attempt = 1; ; attempt++)
        {
            // The provider first, then the profiles: see the remarks on the class.
            var provider = await GetRequiredProviderAsync(name, cancellationToken);
            var users = (await ListAgentsAsync(cancellationToken)).Where(a => a.Provider == name).ToArray();
            if (users.Length > 0 && !removal.Cascade)
            {
                throw new ProviderInUseException(name, users.Select(a => a.Name).ToArray());
            }

            var changes = new ChangeSet().DeleteValue(ProvidersNamespace, name, provider.Version);
            foreach (var user in users)
            {
                changes.DeleteValue(AgentsNamespace, user.Name, user.Version);
            }

            if (await TryCommitAsync(changes, attempt, cancellationToken))
            {
                return users.Select(a => a.Name).ToArray();
            }
        }
    }

    /// <summary>The provider's API key in clear; null if it has none. Treat the result as a secret.</summary>
    /// <exception cref="ProviderNotFoundException">There is no such provider.</exception>
    /// <exception cref="MasterKeyMismatchException">The key was encrypted under a master key not in use.</exception>
    /// <exception cref="SecretCorruptException">The ciphertext was altered.</exception>
    public async Task<string?> RevealApiKeyAsync(string name, CancellationToken cancellationToken = default)
    {
        var provider = await GetRequiredProviderAsync(name, cancellationToken);
        return provider.EncryptedApiKey is null ? null : Decrypt(Keys.Load(), provider);
    }

    /// <summary>Adds an agent profile; its provider must exist.</summary>
    /// <exception cref="AgentSettingsException">Invalid settings.</exception>
    /// <exception cref="ProviderNotFoundException">Its provider does not exist.</exception>
    /// <exception cref="AgentAlreadyExistsException">The name is taken.</exception>
    public async Task<AgentProfile> AddAgentAsync(AgentProfile profile, CancellationToken cancellationToken = default)
    {
        AgentNames.Validate(profile);
        for (var attempt = 1; ; attempt++)
        {
            var provider = await GetRequiredProviderAsync(profile.Provider, cancellationToken);
            var now = Now;
            var stored = profile with { CreatedAt = now, UpdatedAt = now, Version = 0 };
            var changes = new ChangeSet()
                .SaveValue(AgentsNamespace, profile.Name, ToJson(stored), expectedVersion: 0)
                .SaveValue(ProvidersNamespace, provider.Name, ToJson(provider), provider.Version);
            try
            {
                await _store.CommitAsync(changes, cancellationToken);
                return stored with { Version = 1 };
            }
            catch (KeyValueConcurrencyException ex) when (ex.Namespace == AgentsNamespace)
            {
                throw new AgentAlreadyExistsException(profile.Name);
            }
            catch (KeyValueConcurrencyException) when (attempt < MaxAttempts)
            {
                // The provider changed (or went) since it was read: read it again.
            }
        }
    }

    /// <summary>Changes an agent profile with <paramref name="change"/> (given the stored profile); its name cannot change.</summary>
    /// <exception cref="AgentNotFoundException">There is no such profile.</exception>
    /// <exception cref="AgentSettingsException">The changed profile is invalid.</exception>
    /// <exception cref="ProviderNotFoundException">The changed profile's provider does not exist.</exception>
    public async Task<AgentProfile> UpdateAgentAsync(string name, Func<AgentProfile, AgentProfile> change, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 1; ; attempt++)
        {
            var current = await GetRequiredAgentAsync(name, cancellationToken);
            var updated = change(current) with { Name = current.Name, CreatedAt = current.CreatedAt, UpdatedAt = Now, Version = 0 };
            AgentNames.Validate(updated);
            var provider = await GetRequiredProviderAsync(updated.Provider, cancellationToken);
            var changes = new ChangeSet()
                .SaveValue(AgentsNamespace, name, ToJson(updated), current.Version)
                .SaveValue(ProvidersNamespace, provider.Name, ToJson(provider), provider.Version);
            if (await TryCommitAsync(changes, attempt, cancellationToken))
            {
                return updated with { Version = current.Version + 1 };
            }
        }
    }

    /// <summary>The agent profile, or null.</summary>
    public async Task<AgentProfile?> GetAgentAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!AgentNames.IsSlug(name))
        {
            return null;
        }

        var entry = await _store.GetValueAsync(AgentsNamespace, name, cancellationToken);
        return entry is null ? null : ReadAgent(entry);
    }

    /// <summary>The agent profile.</summary>
    /// <exception cref="AgentNotFoundException">There is none.</exception>
    public async Task<AgentProfile> GetRequiredAgentAsync(string name, CancellationToken cancellationToken = default) =>
        await GetAgentAsync(name, cancellationToken) ?? throw new AgentNotFoundException(name);

    /// <summary>Every agent profile, ordered by name.</summary>
    public async Task<IReadOnlyList<AgentProfile>> ListAgentsAsync(CancellationToken cancellationToken = default) =>
        (await _store.ListValuesAsync(AgentsNamespace, cancellationToken)).Select(ReadAgent).ToArray();

    /// <summary>Removes an agent profile; false if there was none.</summary>
    public async Task<bool> RemoveAgentAsync(string name, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await GetAgentAsync(name, cancellationToken) is not { } current)
            {
                return false;
            }

            if (await TryCommitAsync(new ChangeSet().DeleteValue(AgentsNamespace, name, current.Version), attempt, cancellationToken))
            {
                return true;
            }
        }
    }

    /// <summary>
    /// An agent ready to run: its profile, its provider and the API key in clear, for a command's environment.
    /// </summary>
    /// <exception cref="AgentNotFoundException">There is no such profile.</exception>
    /// <exception cref="ProviderNotFoundException">Its provider is gone.</exception>
    /// <exception cref="ProviderInactiveException">Its provider is inactive.</exception>
    /// <exception cref="SecretException">The API key cannot be decrypted.</exception>
    public async Task<ResolvedAgent> ResolveAsync(string name, CancellationToken cancellationToken = default)
    {
        var profile = await GetRequiredAgentAsync(name, cancellationToken);
        var provider = await GetRequiredProviderAsync(profile.Provider, cancellationToken);
        if (!provider.IsActive)
        {
            throw new ProviderInactiveException(name, provider.Name);
        }

        return new ResolvedAgent(profile, provider, provider.EncryptedApiKey is null ? null : Decrypt(Keys.Load(), provider));
    }

    /// <summary>
    /// Re-encrypts every provider's API key that is not under <paramref name="keys"/>' current key, in one commit.
    /// Returns how many were re-encrypted. Every key must be readable with <paramref name="keys"/>, or nothing changes.
    /// </summary>
    /// <exception cref="MasterKeyMismatchException">A key was encrypted under a master key <paramref name="keys"/> lacks.</exception>
    public async Task<int> ReencryptAsync(MasterKeyRing keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        for (var attempt = 1; ; attempt++)
        {
            var changes = new ChangeSet();
            var count = 0;
            foreach (var provider in await ListProvidersAsync(cancellationToken))
            {
                if (provider.EncryptedApiKey is null || provider.ApiKeyMasterKeyId == keys.Current.Id)
                {
                    continue;
                }

                var reencrypted = provider with { EncryptedApiKey = Encrypt(keys.Current, provider.Name, Decrypt(keys, provider)) };
                changes.SaveValue(ProvidersNamespace, provider.Name, ToJson(reencrypted), provider.Version);
                count++;
            }

            if (count == 0 || await TryCommitAsync(changes, attempt, cancellationToken))
            {
                return count;
            }
        }
    }

    /// <summary>
    /// <paramref name="snapshot"/> without any API key ciphertext (in values and checkpoints of
    /// <see cref="ProvidersNamespace"/>), for exports that must not carry secrets even encrypted.
    /// </summary>
    public static StoreSnapshot OmitSecrets(StoreSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return snapshot with
        {
            Values = snapshot.Values
                .Select(v => v.Namespace == ProvidersNamespace ? v with { Value = WithoutApiKey(v.Value) } : v)
                .ToArray(),
            Checkpoints = snapshot.Checkpoints
                .Select(c => c.Namespace == ProvidersNamespace
                    ? c with { Entries = c.Entries.ToDictionary(e => e.Key, e => WithoutApiKey(e.Value), StringComparer.Ordinal) }
                    : c)
                .ToArray(),
        };
    }

    private static JsonElement WithoutApiKey(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(EncryptedApiKeyProperty, out _))
        {
            return value;
        }

        var node = JsonNode.Parse(value.GetRawText())!.AsObject();
        node.Remove(EncryptedApiKeyProperty);
        return JsonSerializer.SerializeToElement(node, AgentJsonContext.Default.JsonObject);
    }

    private static string AssociatedData(string provider) => ProvidersNamespace + "/" + provider;

    private static string Describe(string provider) => $"the API key of provider '{provider}'";

    private static string Encrypt(MasterKey key, string provider, string apiKey) =>
        SecretBox.Encrypt(key, apiKey, AssociatedData(provider));

    private static string Decrypt(MasterKeyRing keys, ProviderRecord provider) =>
        SecretBox.Decrypt(keys, provider.EncryptedApiKey!, AssociatedData(provider.Name), Describe(provider.Name));

    private async Task<bool> TryCommitAsync(ChangeSet changes, int attempt, CancellationToken cancellationToken)
    {
        try
        {
            await _store.CommitAsync(changes, cancellationToken);
            return true;
        }
        catch (KeyValueConcurrencyException) when (attempt < MaxAttempts)
        {
            return false;
        }
    }

    private static JsonElement ToJson(ProviderRecord record) => JsonSerializer.SerializeToElement(record, AgentJsonContext.Default.ProviderRecord);

    private static JsonElement ToJson(AgentProfile profile) => JsonSerializer.SerializeToElement(profile, AgentJsonContext.Default.AgentProfile);

    private static ProviderRecord ReadProvider(KeyValueEntry entry) =>
        Read(entry, AgentJsonContext.Default.ProviderRecord) with { Version = entry.Version };

    private static AgentProfile ReadAgent(KeyValueEntry entry) =>
        Read(entry, AgentJsonContext.Default.AgentProfile) with { Version = entry.Version };

    private static T Read<T>(KeyValueEntry entry, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return entry.Value.Deserialize(type) ?? throw new JsonException("null");
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptException(
                $"The entry '{entry.Key}' in the reserved namespace '{entry.Namespace}' is not a valid {typeof(T).Name} ({ex.Message}). Remove it through AgentDirectory and add it again.", ex);
        }
    }
}

/// <summary>An agent ready to run: its profile, its provider and the provider's API key in clear.</summary>
/// <remarks>Not a record, so that <see cref="ToString"/> cannot print the key.</remarks>
public sealed class ResolvedAgent(AgentProfile profile, ProviderRecord provider, string? apiKey)
{
    /// <summary>The profile.</summary>
    public AgentProfile Profile { get; } = profile;

    /// <summary>Its provider.</summary>
    public ProviderRecord Provider { get; } = provider;

    /// <summary>The provider's API key in clear; null if it has none. A secret: never print or log it.</summary>
    public string? ApiKey { get; } = apiKey;

    /// <inheritdoc />
    public override string ToString() => $"agent {Profile.Name} ({Profile.Model} on {Provider.Name})";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ProviderRecord))]
[JsonSerializable(typeof(AgentProfile))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class AgentJsonContext : JsonSerializerContext;
