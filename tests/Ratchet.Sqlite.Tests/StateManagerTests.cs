using Ratchet.Serialization;
using Ratchet.State;
using Ratchet.Storage;

namespace Ratchet.Sqlite.Tests;

/// <summary>The library's key-value API on a real store: reserved <c>ratchet.*</c> namespaces are read-only through it.</summary>
public sealed class StateManagerTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Writes_ToAReservedNamespace_AreRefusedAndChangeNothing()
    {
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("state.db"));
        // The owner writes through the store's change sets, as AgentDirectory does.
        await store.CommitAsync(new ChangeSet().SaveValue("ratchet.providers", "openai", RatchetJson.Parse("""{"name": "openai"}""")));
        await store.CreateCheckpointAsync("ratchet.providers", "old");
        var before = await SqliteTestStores.ExportTextAsync(store);
        var manager = new StateManager(store, "ratchet.providers");

        var refusals = new[]
        {
            await Assert.ThrowsAsync<ReservedNamespaceException>(() => manager.SaveAsync("openai", "junk")),
            await Assert.ThrowsAsync<ReservedNamespaceException>(() => manager.DeleteAsync("openai")),
            await Assert.ThrowsAsync<ReservedNamespaceException>(() => manager.RestoreAsync("old")),
            await Assert.ThrowsAsync<ReservedNamespaceException>(() => manager.CheckpointAsync("mine")),
        };

        Assert.All(refusals, r => Assert.Equal(("ratchet.providers", "reserved-namespace"), (r.Namespace, r.ErrorCode)));
        Assert.Contains("AgentDirectory manages them", refusals[0].Message, StringComparison.Ordinal);
        Assert.Equal(before, await SqliteTestStores.ExportTextAsync(store));
        Assert.Equal("openai", (await manager.LoadAsync<Dictionary<string, string>>("openai"))["name"]);
        Assert.Equal(["openai"], await manager.ListKeysAsync());
        Assert.Equal(["old"], (await manager.ListCheckpointsAsync()).Select(c => c.Name));
    }

    [Fact]
    public async Task DeleteCheckpoint_OfAReservedNamespace_IsAllowedAndLeavesItsValues()
    {
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("state.db"));
        await store.CommitAsync(new ChangeSet().SaveValue("ratchet.providers", "openai", RatchetJson.Parse("1")));
        await store.CreateCheckpointAsync("ratchet.providers", "old");
        var manager = new StateManager(store, "ratchet.providers");

        Assert.True(await manager.DeleteCheckpointAsync("old"));

        Assert.Empty(await manager.ListCheckpointsAsync());
        Assert.Equal(1, await manager.LoadAsync<int>("openai"));
    }

    [Fact]
    public async Task Writes_ToAnOrdinaryNamespace_StillWork()
    {
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("state.db"));
        var manager = new StateManager(store, "ratchet");

        await manager.SaveAsync("phase", "plan");
        var checkpoint = await manager.CheckpointAsync("c");
        await manager.DeleteAsync("phase");
        await manager.RestoreAsync(checkpoint);

        Assert.Equal("plan", await manager.LoadAsync<string>("phase"));
        Assert.False(ReservedNamespaces.IsReserved("ratchet"));
        Assert.True(ReservedNamespaces.IsReserved("ratchet.providers"));
    }
}
