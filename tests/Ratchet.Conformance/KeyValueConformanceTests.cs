using Microsoft.Extensions.Time.Testing;
using Ratchet.Serialization;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Namespaced key-value state and checkpoints.</summary>
public abstract class KeyValueConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task SaveValue_NewKey_LoadsAtVersion1WithSaveTime()
    {
        var store = await CreateStoreAsync();

        await store.SaveValueAsync("default", "plan", SampleRecords.Tricky);

        var entry = await store.GetValueAsync("default", "plan");
        Assert.NotNull(entry);
        Assert.Equal("default", entry.Namespace);
        Assert.Equal("plan", entry.Key);
        Assert.Equal(1, entry.Version);
        RecordAssert.JsonEqual(SampleRecords.Tricky, entry.Value);
        RecordAssert.Utc(Now, entry.UpdatedAt);
    }

    [StoreFact]
    public async Task SaveValue_LargeValue_RoundTrips()
    {
        var store = await CreateStoreAsync();
        var items = string.Join(",", Enumerable.Range(0, 20_000).Select(i => $$"""{"i":{{i}},"s":"item {{i}} é"}"""));
        var big = Json($$"""{"blob":"{{new string('x', 1_000_000)}}","items":[{{items}}]}""");

        await store.SaveValueAsync("big", "value", big);

        RecordAssert.JsonEqual(big, (await store.GetValueAsync("big", "value"))?.Value);
    }

    [StoreFact]
    public async Task GetValueAsync_MissingKey_ReturnsNull()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "present", "1");

        Assert.Null(await store.GetValueAsync("ns", "absent"));
        Assert.Null(await store.GetValueAsync("other", "present"));
        Assert.Null(await store.GetValueAsync("ns", "PRESENT"));
    }

    [StoreFact]
    public async Task SaveValue_Overwrite_ReplacesValueAndBumpsVersion()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", """{"v":1}""");
        Clock.Advance(TimeSpan.FromSeconds(30));
        await SaveAsync(store, "ns", "k", """{"v":2}""");
        Clock.Advance(TimeSpan.FromSeconds(30));

        var third = await SaveAsync(store, "ns", "k", "[3]");

        Assert.Equal(3, third.Version);
        RecordAssert.JsonEqual(Json("[3]"), third.Value);
        RecordAssert.Utc(Now, third.UpdatedAt);
        Assert.Single(await store.ListValuesAsync("ns"));
    }

    [StoreFact]
    public async Task SaveValue_SameKeyTwiceInOneChangeSet_LastWinsAtVersion2()
    {
        var store = await CreateStoreAsync();

        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("1")).SaveValue("ns", "k", Json("2")));

        var entry = await store.GetValueAsync("ns", "k");
        RecordAssert.JsonEqual(Json("2"), entry?.Value);
        Assert.Equal(2, entry?.Version);
    }

    [StoreFact]
    public async Task DeleteValue_ExistingKey_RemovesOnlyIt()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "a", "1");
        await SaveAsync(store, "ns", "b", "2");

        await store.DeleteValueAsync("ns", "a");

        Assert.Null(await store.GetValueAsync("ns", "a"));
        Assert.Equal(["b"], (await store.ListValuesAsync("ns")).Select(e => e.Key));
    }

    [StoreFact]
    public async Task DeleteValue_MissingKey_IsANoOp()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "a", "1");

        await store.DeleteValueAsync("ns", "never-saved");
        await store.DeleteValueAsync("empty-namespace", "a");

        Assert.Equal(1, (await store.GetValueAsync("ns", "a"))?.Version);
        Assert.Equal(["ns"], await store.ListNamespacesAsync());
    }

    [StoreFact]
    public async Task ListValuesAsync_ManyKeys_OrderedByKeyOrdinal()
    {
        var store = await CreateStoreAsync();
        string[] keys = ["b", "B", "a", "_", "10", "9", "a.b", "a-b", "ab", "é", "Z", "~", "aa", "a b"];
        var changes = new ChangeSet();
        foreach (var key in keys)
        {
            changes.SaveValue("ns", key, Json($"\"{key}\""));
        }

        await store.CommitAsync(changes);

        var listed = await store.ListValuesAsync("ns");
        Assert.Equal(keys.Order(StringComparer.Ordinal), listed.Select(e => e.Key));
        Assert.All(listed, e => RecordAssert.JsonEqual(Json($"\"{e.Key}\""), e.Value));
        Assert.All(listed, e => Assert.Equal("ns", e.Namespace));
    }

    [StoreFact]
    public async Task ListValuesAsync_KeysBeyondTheBasicPlane_OrderedByUtf16Ordinal()
    {
        // Ordinal (UTF-16) order puts U+1F600 (a surrogate pair, 0xD83D...) before U+FF21; UTF-8 byte order does not.
        var store = await CreateStoreAsync();
        string[] keys = ["\uFF21", "😀", "z", "\uE000"];
        var changes = new ChangeSet();
        foreach (var key in keys)
        {
            changes.SaveValue("ns", key, Json("1"));
        }

        await store.CommitAsync(changes);

        Assert.Equal(["z", "😀", "\uE000", "\uFF21"], (await store.ListValuesAsync("ns")).Select(e => e.Key));
    }

    [StoreFact]
    public async Task ListValuesAsync_EmptyNamespace_ReturnsEmpty()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "a", "1");

        Assert.Empty(await store.ListValuesAsync("other"));
    }

    [StoreFact]
    public async Task SaveValue_SameKeyInTwoNamespaces_KeptApart()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "wf-1", "state", "\"one\"");
        await SaveAsync(store, "wf-2", "state", "\"two\"");
        await SaveAsync(store, "wf-2", "state", "\"two again\"");
        await SaveAsync(store, "wf-2", "extra", "2");

        await store.DeleteValueAsync("wf-2", "extra");
        await store.DeleteValueAsync("wf-1", "extra");

        var one = await store.GetValueAsync("wf-1", "state");
        var two = await store.GetValueAsync("wf-2", "state");
        RecordAssert.JsonEqual(Json("\"one\""), one?.Value);
        Assert.Equal(1, one?.Version);
        RecordAssert.JsonEqual(Json("\"two again\""), two?.Value);
        Assert.Equal(2, two?.Version);
        Assert.Equal(["state"], (await store.ListValuesAsync("wf-1")).Select(e => e.Key));
        Assert.Equal(["state"], (await store.ListValuesAsync("wf-2")).Select(e => e.Key));
    }

    [StoreFact]
    public async Task ListNamespacesAsync_ValuesAndCheckpoints_ListedOrdinalWithoutEmptyOnes()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "zeta", "k", "1");
        await SaveAsync(store, "Alpha", "k", "1");
        await SaveAsync(store, "beta", "k", "1");
        await SaveAsync(store, "gone", "k", "1");
        await SaveAsync(store, "only-checkpoint", "k", "1");
        await store.CreateCheckpointAsync("only-checkpoint", "cp");
        await store.DeleteValueAsync("only-checkpoint", "k");
        await store.DeleteValueAsync("gone", "k");

        var namespaces = await store.ListNamespacesAsync();

        Assert.Equal(["Alpha", "beta", "only-checkpoint", "zeta"], namespaces);
    }

    [StoreFact]
    public async Task ListNamespacesAsync_EmptyStore_ReturnsEmpty()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        Assert.Empty(await store.ListNamespacesAsync());
    }

    [StoreFact]
    public async Task SaveValue_ExpectedVersionMatches_Saves()
    {
        var store = await CreateStoreAsync();

        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("1"), expectedVersion: 0));
        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("2"), expectedVersion: 1));
        await store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("3"), expectedVersion: 2));

        var entry = await store.GetValueAsync("ns", "k");
        Assert.Equal(3, entry?.Version);
        RecordAssert.JsonEqual(Json("3"), entry?.Value);
    }

    [StoreFact]
    public async Task SaveValue_ExpectedVersionStale_ThrowsAndKeepsValue()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", "1");
        await SaveAsync(store, "ns", "k", "2");

        var stale = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().SaveValue("ns", "other", Json("9")).SaveValue("ns", "k", Json("3"), expectedVersion: 1)));
        var notNew = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("4"), expectedVersion: 0)));
        var notThere = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().SaveValue("ns", "absent", Json("5"), expectedVersion: 1)));

        Assert.Equal((1L, 2L), (stale.ExpectedVersion, stale.ActualVersion));
        Assert.Equal(("ns", "k"), (stale.Namespace, stale.Key));
        Assert.Equal((0L, 2L), (notNew.ExpectedVersion, notNew.ActualVersion));
        Assert.Equal((1L, 0L), (notThere.ExpectedVersion, notThere.ActualVersion));
        var entry = await store.GetValueAsync("ns", "k");
        Assert.Equal(2, entry?.Version);
        RecordAssert.JsonEqual(Json("2"), entry?.Value);
        Assert.Null(await store.GetValueAsync("ns", "other"));
        Assert.Null(await store.GetValueAsync("ns", "absent"));
    }

    [StoreFact]
    public async Task DeleteValue_ExpectedVersionMatches_Deletes()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", "1");
        await SaveAsync(store, "ns", "k", "2");

        await store.CommitAsync(new ChangeSet().DeleteValue("ns", "k", expectedVersion: 2));

        Assert.Null(await store.GetValueAsync("ns", "k"));
    }

    [StoreFact]
    public async Task DeleteValue_ExpectedVersionStale_ThrowsAndKeepsValue()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", "1");
        await SaveAsync(store, "ns", "k", "2");

        var error = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().DeleteValue("ns", "k", expectedVersion: 1)));

        Assert.Equal((1L, 2L), (error.ExpectedVersion, error.ActualVersion));
        Assert.Equal(2, (await store.GetValueAsync("ns", "k"))?.Version);
    }

    [StoreFact]
    public async Task CreateCheckpointAsync_Namespace_ReturnsInfoAndListsOldestFirst()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "a", "1");
        await SaveAsync(store, "ns", "b", "2");
        await SaveAsync(store, "other", "x", "1");

        var first = await store.CreateCheckpointAsync("ns", "before-plan");
        Clock.Advance(TimeSpan.FromMinutes(1));
        await SaveAsync(store, "ns", "c", "3");
        var second = await store.CreateCheckpointAsync("ns", "after-plan");

        Assert.Equal(("ns", "before-plan", 2), (first.Namespace, first.Name, first.EntryCount));
        RecordAssert.Utc(TestClock.Start, first.CreatedAt);
        Assert.Equal(3, second.EntryCount);
        var listed = await store.ListCheckpointsAsync("ns");
        RecordAssert.SameSequence([first, second], listed);
        Assert.Empty(await store.ListCheckpointsAsync("other"));
    }

    [StoreFact]
    public async Task GetCheckpointAsync_Existing_ReturnsItsValuesAndMissingReturnsNull()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "a", """{"plan":[1,2]}""");
        await SaveAsync(store, "ns", "b", "\"two\"");
        await SaveAsync(store, "other", "a", "1");
        await store.CreateCheckpointAsync("ns", "cp");
        await SaveAsync(store, "ns", "a", "\"changed after\"");

        var checkpoint = await store.GetCheckpointAsync("ns", "cp");

        Assert.NotNull(checkpoint);
        Assert.Equal(("ns", "cp"), (checkpoint.Namespace, checkpoint.Name));
        RecordAssert.Utc(TestClock.Start, checkpoint.CreatedAt);
        Assert.Equal(["a", "b"], checkpoint.Entries.Keys.Order(StringComparer.Ordinal));
        Assert.True(RatchetJson.DeepEquals(Json("""{"plan":[1,2]}"""), checkpoint.Entries["a"]), checkpoint.Entries["a"].GetRawText());
        Assert.True(RatchetJson.DeepEquals(Json("\"two\""), checkpoint.Entries["b"]), checkpoint.Entries["b"].GetRawText());
        Assert.Null(await store.GetCheckpointAsync("ns", "never"));
        Assert.Null(await store.GetCheckpointAsync("other", "cp"));
    }

    [StoreFact]
    public async Task RestoreCheckpointAsync_AfterChanges_NamespaceHoldsExactlyTheCheckpoint()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "changed", "\"original\"");
        await SaveAsync(store, "ns", "deleted", "\"kept\"");
        await SaveAsync(store, "ns", "untouched", """{"same":true}""");
        await SaveAsync(store, "other", "changed", "\"other namespace\"");
        await store.CreateCheckpointAsync("ns", "cp");
        Clock.Advance(TimeSpan.FromMinutes(1));
        await SaveAsync(store, "ns", "changed", "\"modified\"");
        await store.DeleteValueAsync("ns", "deleted");
        await SaveAsync(store, "ns", "added", "\"new\"");
        await SaveAsync(store, "other", "added", "\"other namespace\"");
        Clock.Advance(TimeSpan.FromMinutes(1));

        await store.RestoreCheckpointAsync("ns", "cp");

        var values = await store.ListValuesAsync("ns");
        Assert.Equal(["changed", "deleted", "untouched"], values.Select(e => e.Key));
        RecordAssert.JsonEqual(Json("\"original\""), values[0].Value);
        RecordAssert.JsonEqual(Json("\"kept\""), values[1].Value);
        RecordAssert.JsonEqual(Json("""{"same":true}"""), values[2].Value);
        Assert.Null(await store.GetValueAsync("ns", "added"));

        // Versions move forward: every restore is a save.
        Assert.Equal(3, values[0].Version);
        Assert.Equal(2, values[2].Version);
        Assert.True(values[1].Version >= 1);
        Assert.All(values, e => RecordAssert.Utc(Now, e.UpdatedAt));

        Assert.Equal(["added", "changed"], (await store.ListValuesAsync("other")).Select(e => e.Key));
        Assert.Single(await store.ListCheckpointsAsync("ns"));
    }

    [StoreFact]
    public async Task RestoreCheckpointAsync_WriterHoldingPreRestoreVersion_IsRefused()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", "1");
        await store.CreateCheckpointAsync("ns", "cp");
        var seen = await SaveAsync(store, "ns", "k", "2");

        await store.RestoreCheckpointAsync("ns", "cp");

        var error = await Assert.ThrowsAsync<KeyValueConcurrencyException>(
            () => store.CommitAsync(new ChangeSet().SaveValue("ns", "k", Json("3"), expectedVersion: seen.Version)));
        Assert.Equal(seen.Version, error.ExpectedVersion);
        Assert.True(error.ActualVersion > seen.Version);
        var entry = await store.GetValueAsync("ns", "k");
        RecordAssert.JsonEqual(Json("1"), entry?.Value);
        Assert.Equal(3, entry?.Version);
    }

    [StoreFact]
    public async Task CreateCheckpointAsync_SameName_ReplacesTheCheckpoint()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "a", "1");
        await store.CreateCheckpointAsync("ns", "cp");
        await store.CreateCheckpointAsync("ns", "other");
        Clock.Advance(TimeSpan.FromMinutes(1));
        await SaveAsync(store, "ns", "a", "2");
        await SaveAsync(store, "ns", "b", "3");

        var replaced = await store.CreateCheckpointAsync("ns", "cp");
        await SaveAsync(store, "ns", "a", "4");
        await store.DeleteValueAsync("ns", "b");
        await store.RestoreCheckpointAsync("ns", "cp");

        Assert.Equal(2, replaced.EntryCount);
        RecordAssert.Utc(Now, replaced.CreatedAt);
        var checkpoints = await store.ListCheckpointsAsync("ns");
        Assert.Equal(2, checkpoints.Count);
        Assert.Equal(2, checkpoints.Single(c => c.Name == "cp").EntryCount);
        var values = await store.ListValuesAsync("ns");
        Assert.Equal(["a", "b"], values.Select(e => e.Key));
        RecordAssert.JsonEqual(Json("2"), values[0].Value);
        RecordAssert.JsonEqual(Json("3"), values[1].Value);
    }

    [StoreFact]
    public async Task CreateCheckpointAsync_SameNameInTwoNamespaces_KeptApart()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns-1", "k", "1");
        await SaveAsync(store, "ns-2", "k", "2");
        await store.CreateCheckpointAsync("ns-1", "cp");
        await store.CreateCheckpointAsync("ns-2", "cp");
        await SaveAsync(store, "ns-1", "k", "10");
        await SaveAsync(store, "ns-2", "k", "20");

        await store.RestoreCheckpointAsync("ns-1", "cp");

        RecordAssert.JsonEqual(Json("1"), (await store.GetValueAsync("ns-1", "k"))?.Value);
        RecordAssert.JsonEqual(Json("20"), (await store.GetValueAsync("ns-2", "k"))?.Value);
        Assert.True(await store.DeleteCheckpointAsync("ns-1", "cp"));
        Assert.Single(await store.ListCheckpointsAsync("ns-2"));
    }

    [StoreFact]
    public async Task DeleteCheckpointAsync_Existing_ReturnsTrueThenFalse()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", "1");
        await store.CreateCheckpointAsync("ns", "cp");
        await store.CreateCheckpointAsync("ns", "keep");

        Assert.True(await store.DeleteCheckpointAsync("ns", "cp"));
        Assert.False(await store.DeleteCheckpointAsync("ns", "cp"));
        Assert.False(await store.DeleteCheckpointAsync("ns", "never"));
        Assert.False(await store.DeleteCheckpointAsync("other", "keep"));

        Assert.Equal(["keep"], (await store.ListCheckpointsAsync("ns")).Select(c => c.Name));
        await Assert.ThrowsAsync<CheckpointNotFoundException>(() => store.RestoreCheckpointAsync("ns", "cp"));
        Assert.Equal(1, (await store.GetValueAsync("ns", "k"))?.Version);
    }

    [StoreFact]
    public async Task RestoreCheckpointAsync_MissingCheckpoint_ThrowsAndChangesNothing()
    {
        var store = await CreateStoreAsync();
        await SaveAsync(store, "ns", "k", "1");
        await store.CreateCheckpointAsync("elsewhere", "cp");
        var before = await ExportTextAsync(store);

        var error = await Assert.ThrowsAsync<CheckpointNotFoundException>(() => store.RestoreCheckpointAsync("ns", "cp"));

        Assert.Equal("ns", error.Namespace);
        Assert.Equal("cp", error.Name);
        Assert.Equal("checkpoint-not-found", error.ErrorCode);
        Assert.Equal(before, await ExportTextAsync(store));
    }
}
