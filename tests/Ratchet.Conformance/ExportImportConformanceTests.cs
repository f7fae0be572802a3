using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Serialization;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Export and import of everything a store holds, and the snapshot's JSON form.</summary>
public abstract class ExportImportConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task ExportAsync_EmptyStore_ReturnsEmptySnapshot()
    {
        var store = await CreateStoreAsync();

        var snapshot = await store.ExportAsync();

        Assert.True(snapshot.IsEmpty);
        Assert.Equal(StoreSnapshot.CurrentFormatVersion, snapshot.FormatVersion);
    }

    [StoreFact]
    public async Task ExportAsync_PopulatedStore_HoldsEverythingInCanonicalOrder()
    {
        var store = await CreateStoreAsync();
        await PopulateAsync(store);

        var snapshot = await store.ExportAsync();

        Assert.Equal(["wf-child", "wf-done", "wf-failed", "wf-parent", "wf-rich"], snapshot.Workflows.Select(w => w.Id));
        Assert.Equal(await SnapshotTextAsync(snapshot.Canonicalize()), await SnapshotTextAsync(snapshot));
        foreach (var workflow in snapshot.Workflows)
        {
            RecordAssert.Same(await store.GetRequiredWorkflowAsync(workflow.Id), workflow);
            RecordAssert.SameSequence(await store.GetEventsAsync(workflow.Id), snapshot.Events.Where(e => e.WorkflowId == workflow.Id));
            RecordAssert.SameSequence(await store.GetStepsAsync(workflow.Id), snapshot.Steps.Where(s => s.WorkflowId == workflow.Id));
            RecordAssert.SameSequence(await store.GetCommandsAsync(workflow.Id), snapshot.Commands.Where(c => c.WorkflowId == workflow.Id));
        }

        Assert.NotNull(snapshot.Workflows.Single(w => w.Id == "wf-done").ArchivedAt);
        RecordAssert.SameSequence(await store.ListWorkspacesAsync(), snapshot.Workspaces);
        Assert.Equal(2, snapshot.Workspaces.Count);
        Assert.Equal([("default", "a"), ("default", "b"), ("wf-rich", "state"), ("zz", "null")], snapshot.Values.Select(v => (v.Namespace, v.Key)));
        foreach (var value in snapshot.Values)
        {
            RecordAssert.Same(await store.GetValueAsync(value.Namespace, value.Key), value);
        }

        Assert.Equal([("default", "cp1"), ("only-checkpoint", "kept"), ("wf-rich", "before")], snapshot.Checkpoints.Select(c => (c.Namespace, c.Name)));
        var cp1 = snapshot.Checkpoints[0];
        Assert.Equal(["a", "b"], cp1.Entries.Keys.Order(StringComparer.Ordinal));
        RecordAssert.JsonEqual(Json("\"a1\""), cp1.Entries["a"]);
        RecordAssert.JsonEqual(Json("\"b1\""), cp1.Entries["b"]);
        RecordAssert.JsonEqual(SampleRecords.Tricky, snapshot.Checkpoints[2].Entries["state"]);
    }

    [StoreFact]
    public async Task ImportAsync_IntoEmptyStore_ExportsIdentically()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var exported = await source.ExportAsync();
        var target = await CreateStoreAsync(new FakeTimeProvider(Now.AddYears(1)));

        await target.ImportAsync(exported);

        var expected = await SnapshotTextAsync(exported);
        Assert.Equal(expected, await ExportTextAsync(target));
        Assert.Contains("\"wf-rich\"", expected, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task ImportAsync_Imported_KeepsVersionsSequencesAndLeasesGoingForward()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var target = await CreateStoreAsync();
        await target.ImportAsync(await source.ExportAsync());
        var rich = await target.GetRequiredWorkflowAsync("wf-rich");
        var lastEvent = (await target.GetEventsAsync("wf-rich"))[^1].Sequence;
        var lastStep = (await target.GetStepsAsync("wf-rich"))[^1].Sequence;

        await Assert.ThrowsAsync<WorkflowConcurrencyException>(
            () => target.CommitAsync(new ChangeSet().UpdateWorkflow(rich with { Version = rich.Version + 1 })));
        await target.CommitAsync(new ChangeSet()
            .UpdateWorkflow(rich with { CurrentNode = "after-import" })
            .AppendEvent(NewEvent("wf-rich", "after-import"))
            .AppendStep(NewStep("wf-rich", "after-import")));
        await target.SaveValueAsync("default", "b", Json("\"b3\""));

        // wf-rich was exported with worker-1's lease running until a minute after the populate began: the clock is set
        // back there (AdjustTime, as a system clock is set; SetUtcNow only moves forward).
        Clock.AdjustTime(TestClock.Start);
        var claimByOther = await target.ClaimWorkflowAsync("wf-rich", "worker-2", TimeSpan.FromMinutes(1));
        await target.RestoreCheckpointAsync("default", "cp1");

        var updated = await target.GetRequiredWorkflowAsync("wf-rich");
        Assert.Equal(rich.Version + 1, updated.Version);
        Assert.Equal(lastEvent + 1, (await target.GetEventsAsync("wf-rich"))[^1].Sequence);
        Assert.Equal(lastStep + 1, (await target.GetStepsAsync("wf-rich"))[^1].Sequence);
        Assert.Null(claimByOther);
        Assert.Equal("worker-1/1234/ab12", updated.LeaseOwner);
        var b = await target.GetValueAsync("default", "b");
        RecordAssert.JsonEqual(Json("\"b1\""), b?.Value);
        Assert.Equal(4, b?.Version);
    }

    [StoreFact]
    public async Task ImportAsync_StoreWithAValue_ThrowsStoreNotEmptyAndChangesNothing()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var snapshot = await source.ExportAsync();
        var target = await CreateStoreAsync();
        await SaveAsync(target, "mine", "k", "1");
        var before = await ExportTextAsync(target);

        var error = await Assert.ThrowsAsync<StoreNotEmptyException>(() => target.ImportAsync(snapshot));

        Assert.Equal("store-not-empty", error.ErrorCode);
        Assert.Equal(before, await ExportTextAsync(target));
    }

    [StoreFact]
    public async Task ImportAsync_StoreWithAWorkflow_ThrowsStoreNotEmptyAndChangesNothing()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var snapshot = await source.ExportAsync();
        var target = await CreateStoreAsync();
        await InsertAsync(target, "unrelated");
        var before = await ExportTextAsync(target);

        await Assert.ThrowsAsync<StoreNotEmptyException>(() => target.ImportAsync(snapshot, ImportMode.EmptyStoreOnly));

        Assert.Equal(before, await ExportTextAsync(target));
    }

    [StoreFact]
    public async Task ImportAsync_Merge_KeepsExistingRecordsAndAddsMissingOnes()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var snapshot = await source.ExportAsync();
        var target = await CreateStoreAsync();
        var mine = await InsertAsync(target, NewWorkflow("wf-parent", "mine") with { Input = Json("\"mine\"") });
        await target.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-parent", "mine")));
        await SaveAsync(target, "default", "a", "\"my a\"");
        await SaveAsync(target, "default", "mine", "\"only mine\"");
        await target.CreateCheckpointAsync("default", "cp1");
        var myEvents = await target.GetEventsAsync("wf-parent");
        var myCheckpoint = Assert.Single(await target.ListCheckpointsAsync("default"));

        await target.ImportAsync(snapshot, ImportMode.Merge);

        RecordAssert.Same(mine, await target.GetRequiredWorkflowAsync("wf-parent"));
        RecordAssert.SameSequence(myEvents, await target.GetEventsAsync("wf-parent"));
        foreach (var id in new[] { "wf-child", "wf-done", "wf-failed", "wf-rich" })
        {
            RecordAssert.Same(await source.GetRequiredWorkflowAsync(id), await target.GetRequiredWorkflowAsync(id));
            RecordAssert.SameSequence(await source.GetEventsAsync(id), await target.GetEventsAsync(id));
            RecordAssert.SameSequence(await source.GetStepsAsync(id), await target.GetStepsAsync(id));
            RecordAssert.SameSequence(await source.GetCommandsAsync(id), await target.GetCommandsAsync(id));
        }

        RecordAssert.Same(await source.GetWorkspaceAsync("wf-rich"), await target.GetWorkspaceAsync("wf-rich"));
        Assert.Equal(["a", "b", "mine"], (await target.ListValuesAsync("default")).Select(v => v.Key));
        var a = await target.GetValueAsync("default", "a");
        RecordAssert.JsonEqual(Json("\"my a\""), a?.Value);
        Assert.Equal(1, a?.Version);
        RecordAssert.Same(await source.GetValueAsync("default", "b"), await target.GetValueAsync("default", "b"));
        RecordAssert.Same(await source.GetValueAsync("wf-rich", "state"), await target.GetValueAsync("wf-rich", "state"));
        RecordAssert.Same(myCheckpoint, Assert.Single(await target.ListCheckpointsAsync("default")));
        RecordAssert.SameSequence(await source.ListCheckpointsAsync("wf-rich"), await target.ListCheckpointsAsync("wf-rich"));
        Assert.Equal(["default", "only-checkpoint", "wf-rich", "zz"], await target.ListNamespacesAsync());
    }

    [StoreFact]
    public async Task ImportAsync_MergeTwice_SecondImportChangesNothing()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var snapshot = await source.ExportAsync();
        var target = await CreateStoreAsync();
        await target.ImportAsync(snapshot, ImportMode.Merge);
        var once = await ExportTextAsync(target);

        await target.ImportAsync(snapshot, ImportMode.Merge);

        Assert.Equal(once, await ExportTextAsync(target));
        Assert.Equal(await SnapshotTextAsync(snapshot), once);
    }

    [StoreFact]
    public async Task ReopenStore_AfterCommits_EverythingCommittedIsThereAndContinues()
    {
        var store = await CreateStoreAsync();
        await PopulateAsync(store);
        var before = await ExportTextAsync(store);

        store = await ReopenAsync(store);

        Assert.Equal(before, await ExportTextAsync(store));
        var rich = await store.GetRequiredWorkflowAsync("wf-rich");
        var lastEvent = (await store.GetEventsAsync("wf-rich"))[^1].Sequence;
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(rich with { CurrentNode = "after-restart" }).AppendEvent(NewEvent("wf-rich", "after-restart")));
        Assert.Equal(rich.Version + 1, (await store.GetRequiredWorkflowAsync("wf-rich")).Version);
        Assert.Equal(lastEvent + 1, (await store.GetEventsAsync("wf-rich"))[^1].Sequence);
        await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet().UpdateWorkflow(rich)));
    }

    [StoreFact]
    public async Task WriteSnapshotAsync_ReadBack_SameBytesAndSameImport()
    {
        var source = await CreateStoreAsync();
        await PopulateAsync(source);
        var exported = await source.ExportAsync();
        var text = await SnapshotTextAsync(exported);

        StoreSnapshot read;
        using (var stream = new MemoryStream(Encoding.UTF8.GetBytes(text)))
        {
            read = await RatchetJson.ReadSnapshotAsync(stream);
        }

        Assert.Equal(text, await SnapshotTextAsync(read));
        var target = await CreateStoreAsync();
        await target.ImportAsync(read);
        Assert.Equal(text, await ExportTextAsync(target));
    }

    [Fact]
    public async Task ReadSnapshotAsync_NewerFormat_ThrowsJsonException()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes($$"""{"formatVersion":{{StoreSnapshot.CurrentFormatVersion + 1}},"workflows":[]}"""));

        var error = await Assert.ThrowsAsync<JsonException>(() => RatchetJson.ReadSnapshotAsync(stream));

        Assert.Contains("Upgrade Ratchet", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Five workflows (wf-rich with every kind of record, wf-parent and its child wf-child, wf-failed and wf-done
    /// archived), values in three namespaces, three checkpoints (one in a namespace with no values left). Times have
    /// sub-microsecond ticks, as callers' times do.
    /// </summary>
    private Task PopulateAsync(IRatchetStore store) => SampleStore.PopulateAsync(store, Clock);
}
