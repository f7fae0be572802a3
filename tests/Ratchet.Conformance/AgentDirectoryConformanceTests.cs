using System.Text;
using Ratchet.Agents;
using Ratchet.Secrets;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>
/// Providers and agent profiles (<see cref="AgentDirectory"/>): built on the storage contract alone, so every backend
/// must hold them the same way, with API keys only as ciphertext and the provider–profile link kept by versions.
/// </summary>
public abstract class AgentDirectoryConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    private const string ApiKey = "sk-conformance-7f3a9c1e5b";

    private readonly MasterKey _key = MasterKey.Generate();

    [StoreFact]
    public async Task AddProvider_StoresTheKeyOnlyEncrypted_AndRevealDecryptsIt()
    {
        var store = await CreateStoreAsync();
        var directory = Directory(store);

        var added = await directory.AddProviderAsync(new NewProvider { Name = "openai", ApiKey = ApiKey, BaseUrl = "https://api.example.com/v1" });

        var stored = await directory.GetRequiredProviderAsync("openai");
        Assert.Equal(("openai", "https://api.example.com/v1", true, 1L), (stored.Name, stored.BaseUrl, stored.IsActive, stored.Version));
        Assert.Equal(added.EncryptedApiKey, stored.EncryptedApiKey);
        Assert.Equal(_key.Id, stored.ApiKeyMasterKeyId);
        RecordAssert.Utc(Now, stored.CreatedAt);
        var entry = await store.GetValueAsync(AgentDirectory.ProvidersNamespace, "openai");
        Assert.DoesNotContain(ApiKey, entry!.Value.GetRawText(), StringComparison.Ordinal);
        var export = await store.ExportAsync();
        Assert.DoesNotContain(ApiKey, Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(export, Serialization.RatchetJson.Options)), StringComparison.Ordinal);
        Assert.Equal(ApiKey, await directory.RevealApiKeyAsync("openai"));
    }

    [StoreFact]
    public async Task AddProvider_NameTaken_RefusedAndTheFirstKept()
    {
        var store = await CreateStoreAsync();
        var directory = Directory(store);
        await directory.AddProviderAsync(new NewProvider { Name = "openai", ApiKey = ApiKey });

        await Assert.ThrowsAsync<ProviderAlreadyExistsException>(() => directory.AddProviderAsync(new NewProvider { Name = "openai", ApiKey = "sk-other-123456" }));

        Assert.Equal(ApiKey, await directory.RevealApiKeyAsync("openai"));
    }

    [StoreFact]
    public async Task AddProvider_InvalidSettings_ListsEveryProblemAndWritesNothing()
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<AgentSettingsException>(() =>
            Directory(store).AddProviderAsync(new NewProvider { Name = "Open AI", ApiKey = " padded ", BaseUrl = "ftp://example.com" }));

        Assert.Equal(3, error.Problems.Count);
        Assert.DoesNotContain("padded", error.Message, StringComparison.Ordinal);
        Assert.Empty(await store.ListValuesAsync(AgentDirectory.ProvidersNamespace));
    }

    [StoreFact]
    public async Task AddAgent_UnknownProvider_Refused()
    {
        var store = await CreateStoreAsync();

        var error = await Assert.ThrowsAsync<ProviderNotFoundException>(() => Directory(store).AddAgentAsync(Profile("reviewer", "missing")));

        Assert.Equal("missing", error.Name);
        Assert.Empty(await store.ListValuesAsync(AgentDirectory.AgentsNamespace));
    }

    [StoreFact]
    public async Task AddAgent_NameTaken_Refused()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await directory.AddAgentAsync(Profile("reviewer"));

        await Assert.ThrowsAsync<AgentAlreadyExistsException>(() => directory.AddAgentAsync(Profile("reviewer") with { Model = "other" }));

        Assert.Equal("gpt-4o", (await directory.GetRequiredAgentAsync("reviewer")).Model);
    }

    [StoreFact]
    public async Task AddAgent_RoundTripsEverySetting()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        var profile = Profile("reviewer") with { Avatar = "🦉", Kind = AgentKind.Planner, SystemPrompt = "Plan.\nThen act.", MaxTokens = 4096 };

        await directory.AddAgentAsync(profile);

        var stored = await directory.GetRequiredAgentAsync("reviewer");
        Assert.Equal(
            ("🦉", AgentKind.Planner, "openai", "gpt-4o", "Plan.\nThen act.", 0.2, 4096, 1L),
            (stored.Avatar, stored.Kind, stored.Provider, stored.Model, stored.SystemPrompt, stored.Temperature, stored.MaxTokens, stored.Version));
        Assert.Equal(["fs.read", "mcp:github"], stored.Tools);
    }

    [StoreFact]
    public async Task AddAgent_MovesItsProvidersVersion_SoARemovalThatReadBeforeIsRefused()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        var providerBefore = await directory.GetRequiredProviderAsync("openai");

        await directory.AddAgentAsync(Profile("reviewer"));

        // What a removal that listed the profiles before this add would commit: it must not succeed.
        await Assert.ThrowsAsync<KeyValueConcurrencyException>(() =>
            store.CommitAsync(new ChangeSet().DeleteValue(AgentDirectory.ProvidersNamespace, "openai", providerBefore.Version)));
        Assert.Equal(ApiKey, await directory.RevealApiKeyAsync("openai"));
    }

    [StoreFact]
    public async Task RemoveProvider_UsedByAgents_RefusedAndNothingChanged()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await directory.AddAgentAsync(Profile("reviewer"));
        await directory.AddAgentAsync(Profile("planner"));

        var error = await Assert.ThrowsAsync<ProviderInUseException>(() => directory.RemoveProviderAsync("openai"));

        Assert.Equal(["planner", "reviewer"], error.Agents);
        Assert.NotNull(await directory.GetProviderAsync("openai"));
        Assert.Equal(2, (await directory.ListAgentsAsync()).Count);
    }

    [StoreFact]
    public async Task RemoveProvider_Cascade_RemovesItsAgentsAndKeepsOthers()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await directory.AddProviderAsync(new NewProvider { Name = "local", BaseUrl = "http://localhost:11434" });
        await directory.AddAgentAsync(Profile("reviewer"));
        await directory.AddAgentAsync(Profile("runner", "local"));

        var removed = await directory.RemoveProviderAsync("openai", new ProviderRemoval { Cascade = true });

        Assert.Equal(["reviewer"], removed);
        Assert.Null(await directory.GetProviderAsync("openai"));
        Assert.Equal(["runner"], (await directory.ListAgentsAsync()).Select(a => a.Name));
        Assert.Equal(["local"], (await directory.ListProvidersAsync()).Select(p => p.Name));
    }

    [StoreFact]
    public async Task UpdateProvider_NewKeyAndInactive_ResolveRefusesNamingTheProvider()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await directory.AddAgentAsync(Profile("reviewer"));

        var updated = await directory.UpdateProviderAsync("openai", new ProviderChanges { ApiKey = "sk-rotated-abcdef", IsActive = false, BaseUrl = "" });

        Assert.Equal((false, (string?)null), (updated.IsActive, updated.BaseUrl));
        Assert.Equal("sk-rotated-abcdef", await directory.RevealApiKeyAsync("openai"));
        var error = await Assert.ThrowsAsync<ProviderInactiveException>(() => directory.ResolveAsync("reviewer"));
        Assert.Equal(("reviewer", "openai"), (error.Agent, error.Provider));
    }

    [StoreFact]
    public async Task Resolve_ActiveAgent_GivesProfileProviderAndKey()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await directory.AddAgentAsync(Profile("reviewer"));

        var resolved = await directory.ResolveAsync("reviewer");

        Assert.Equal(("reviewer", "openai", ApiKey), (resolved.Profile.Name, resolved.Provider.Name, resolved.ApiKey));
        Assert.DoesNotContain(ApiKey, resolved.ToString(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<AgentNotFoundException>(() => directory.ResolveAsync("nobody"));
    }

    [StoreFact]
    public async Task Reveal_UnderAnotherMasterKey_ThrowsMismatch()
    {
        var store = await CreateStoreAsync();
        await WithProviderAsync(store);
        var other = new AgentDirectory(store, new AgentDirectoryOptions { MasterKeys = new MasterKeySource { Keys = MasterKey.Generate().ToBase64() }, TimeProvider = Clock });

        var error = await Assert.ThrowsAsync<MasterKeyMismatchException>(() => other.RevealApiKeyAsync("openai"));

        Assert.Equal(_key.Id, error.KeyId);
    }

    [StoreFact]
    public async Task Reencrypt_UnderANewKey_MovesEveryKeyInOneCommitAndTheOldKeyAloneNoLongerReads()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await directory.AddProviderAsync(new NewProvider { Name = "second", ApiKey = "sk-second-123456" });
        await directory.AddProviderAsync(new NewProvider { Name = "keyless" });
        var newKey = MasterKey.Generate();
        var ring = new MasterKeyRing([newKey, _key], "test");

        var count = await directory.ReencryptAsync(ring);
        var again = await directory.ReencryptAsync(ring);

        Assert.Equal((2, 0), (count, again));
        Assert.All((await directory.ListProvidersAsync()).Where(p => p.HasApiKey), p => Assert.Equal(newKey.Id, p.ApiKeyMasterKeyId));
        var withNewKey = new AgentDirectory(store, new AgentDirectoryOptions { MasterKeys = new MasterKeySource { Keys = newKey.ToBase64() } });
        Assert.Equal("sk-second-123456", await withNewKey.RevealApiKeyAsync("second"));
        await Assert.ThrowsAsync<MasterKeyMismatchException>(() => directory.RevealApiKeyAsync("openai"));
    }

    [StoreFact]
    public async Task OmitSecrets_Export_CarriesNoCiphertextButEverythingElse()
    {
        var store = await CreateStoreAsync();
        var directory = await WithProviderAsync(store);
        await store.CreateCheckpointAsync(AgentDirectory.ProvidersNamespace, "before");

        var snapshot = AgentDirectory.OmitSecrets(await store.ExportAsync());

        var value = Assert.Single(snapshot.Values, v => v.Namespace == AgentDirectory.ProvidersNamespace);
        Assert.False(value.Value.TryGetProperty(AgentDirectory.EncryptedApiKeyProperty, out _));
        Assert.Equal("openai", value.Value.GetProperty("name").GetString());
        var checkpoint = Assert.Single(snapshot.Checkpoints);
        Assert.False(checkpoint.Entries["openai"].TryGetProperty(AgentDirectory.EncryptedApiKeyProperty, out _));
    }

    private AgentDirectory Directory(IRatchetStore store) =>
        new(store, new AgentDirectoryOptions { MasterKeys = new MasterKeySource { Keys = _key.ToBase64() }, TimeProvider = Clock });

    private async Task<AgentDirectory> WithProviderAsync(IRatchetStore store)
    {
        var directory = Directory(store);
        await directory.AddProviderAsync(new NewProvider { Name = "openai", ApiKey = ApiKey });
        return directory;
    }

    private static AgentProfile Profile(string name, string provider = "openai") => new()
    {
        Name = name,
        Provider = provider,
        Model = "gpt-4o",
        Kind = AgentKind.Specialist,
        Tools = ["fs.read", "mcp:github"],
        Temperature = 0.2,
    };
}
