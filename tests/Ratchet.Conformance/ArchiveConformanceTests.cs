using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Archiving finished workflows and deleting workflows.</summary>
public abstract class ArchiveConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task ArchiveWorkflowsAsync_TerminalBeforeCutoff_ArchivesThemAndReturnsCount()
    {
        var store = await CreateStoreAsync();
        var cutoff = await SeedAsync(store);

        var count = await store.ArchiveWorkflowsAsync(cutoff);

        Assert.Equal(3, count);
        foreach (var id in new[] { "completed-old", "failed-old", "cancelled-old" })
        {
            var archived = await store.GetRequiredWorkflowAsync(id);
            RecordAssert.Utc(Now, archived.ArchivedAt);
            var events = await store.GetEventsAsync(id);
            Assert.Equal([AuditEventTypes.Created, AuditEventTypes.Archived], events.Select(e => e.Type));
            Assert.Equal(2, events[1].Sequence);
            RecordAssert.Utc(Now, events[1].At);
        }

        foreach (var id in new[] { "completed-at-cutoff", "completed-recent", "running-old", "waiting-old", "pending-old" })
        {
            Assert.Null((await store.GetRequiredWorkflowAsync(id)).ArchivedAt);
            Assert.Equal([AuditEventTypes.Created], (await store.GetEventsAsync(id)).Select(e => e.Type));
        }
    }

    [StoreFact]
    public async Task ArchiveWorkflowsAsync_SecondCall_ArchivesNothingMore()
    {
        var store = await CreateStoreAsync();
        var cutoff = await SeedAsync(store);
        Assert.Equal(3, await store.ArchiveWorkflowsAsync(cutoff));
        var archivedAt = (await store.GetRequiredWorkflowAsync("failed-old")).ArchivedAt;
        Clock.Advance(TimeSpan.FromHours(1));

        var again = await store.ArchiveWorkflowsAsync(cutoff);

        Assert.Equal(0, again);
        var failed = await store.GetRequiredWorkflowAsync("failed-old");
        Assert.Equal(archivedAt, failed.ArchivedAt);
        Assert.Equal(2, (await store.GetEventsAsync("failed-old")).Count);
    }

    [StoreFact]
    public async Task ArchiveWorkflowsAsync_NothingFinishedBeforeCutoff_ReturnsZero()
    {
        var store = await CreateStoreAsync();
        var cutoff = await SeedAsync(store);

        Assert.Equal(0, await store.ArchiveWorkflowsAsync(cutoff.AddDays(-30)));

        Assert.DoesNotContain((await store.ListWorkflowsAsync(new WorkflowQuery { IncludeArchived = true })).Items, w => w.ArchivedAt is not null);
    }

    [StoreFact]
    public async Task ArchiveWorkflowsAsync_Archived_StillReadableWithItsRecords()
    {
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet()
            .UpdateWorkflow((record.TransitionTo(WorkflowStatus.Running, Now) with { Artifacts = new Dictionary<string, System.Text.Json.JsonElement> { ["a"] = Json("1") } })
                .TransitionTo(WorkflowStatus.Completed, Now))
            .AppendStep(NewStep("wf-1", "a", Json("1")))
            .RecordCommand(NewCommand("wf-1", "echo 1"))
            .PutWorkspace(NewWorkspace("wf-1", WorkspaceStatus.Completed)));
        var before = await store.GetRequiredWorkflowAsync("wf-1");
        Clock.Advance(TimeSpan.FromDays(1));

        Assert.Equal(1, await store.ArchiveWorkflowsAsync(Now));

        var archived = await store.GetRequiredWorkflowAsync("wf-1");
        RecordAssert.Same(before with { ArchivedAt = archived.ArchivedAt, Version = archived.Version, UpdatedAt = archived.UpdatedAt }, archived);
        RecordAssert.Utc(Now, archived.ArchivedAt);
        Assert.Equal(WorkflowStatus.Completed, archived.Status);
        RecordAssert.JsonEqual(Json("1"), archived.Artifacts["a"]);
        Assert.Single(await store.GetStepsAsync("wf-1"));
        Assert.Single(await store.GetCommandsAsync("wf-1"));
        Assert.NotNull(await store.GetWorkspaceAsync("wf-1"));
        Assert.Equal(AuditEventTypes.Archived, Assert.Single(await store.GetEventsAsync("wf-1")).Type);
        Assert.Empty(await store.ListActiveWorkflowsAsync());
    }

    [StoreFact]
    public async Task DeleteWorkflowAsync_Existing_RemovesItWithItsRecords()
    {
        var store = await CreateStoreAsync();
        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(NewWorkflow("doomed"))
            .CreateWorkflow(NewWorkflow("kept"))
            .AppendEvent(NewEvent("doomed"))
            .AppendStep(NewStep("doomed", "a"))
            .RecordCommand(NewCommand("doomed", "rm -rf build"))
            .PutWorkspace(NewWorkspace("doomed"))
            .AppendEvent(NewEvent("kept"))
            .AppendStep(NewStep("kept", "a"))
            .RecordCommand(NewCommand("kept", "ls"))
            .PutWorkspace(NewWorkspace("kept")));

        var deleted = await store.DeleteWorkflowAsync("doomed");

        Assert.True(deleted);
        Assert.Null(await store.GetWorkflowAsync("doomed"));
        Assert.Empty(await store.GetEventsAsync("doomed"));
        Assert.Empty(await store.GetStepsAsync("doomed"));
        Assert.Empty(await store.GetCommandsAsync("doomed"));
        Assert.Null(await store.GetWorkspaceAsync("doomed"));
        Assert.Equal(["kept"], (await store.ListWorkspacesAsync()).Select(w => w.WorkflowId));
        Assert.Equal(["kept"], (await store.ListWorkflowsAsync(new WorkflowQuery { IncludeArchived = true })).Items.Select(w => w.Id));
        var snapshot = await store.ExportAsync();
        Assert.DoesNotContain(snapshot.Events, e => e.WorkflowId == "doomed");
        Assert.DoesNotContain(snapshot.Steps, s => s.WorkflowId == "doomed");
        Assert.DoesNotContain(snapshot.Commands, c => c.WorkflowId == "doomed");
        Assert.Single(await store.GetEventsAsync("kept"));
        Assert.Single(await store.GetStepsAsync("kept"));
        Assert.Single(await store.GetCommandsAsync("kept"));
    }

    [StoreFact]
    public async Task DeleteWorkflowAsync_UnknownOrAlreadyDeleted_ReturnsFalse()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        Assert.False(await store.DeleteWorkflowAsync("unknown"));
        Assert.True(await store.DeleteWorkflowAsync("wf-1"));
        Assert.False(await store.DeleteWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task DeleteWorkflowAsync_ThenCreateSameId_StartsAfresh()
    {
        var store = await CreateStoreAsync();
        var old = await MoveAsync(store, await InsertAsync(store, "wf-1"), WorkflowStatus.Running);
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "old")));
        Assert.True(await store.DeleteWorkflowAsync("wf-1"));

        var result = await new WorkflowCreator(store, Clock).CreateAsync(new NewWorkflow { Type = "other", Id = "wf-1" });

        Assert.True(result.Created);
        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Equal(1, stored.Version);
        Assert.Equal("other", stored.Type);
        Assert.Equal(2, old.Version);
        Assert.Equal([AuditEventTypes.Created], (await store.GetEventsAsync("wf-1")).Select(e => e.Type));
    }

    /// <summary>
    /// Finished 3 days, 2 days and 1 day before the cutoff: completed-old, failed-old, cancelled-old; at the cutoff:
    /// completed-at-cutoff; after it: completed-recent; never: running-old, waiting-old, pending-old. Returns the cutoff.
    /// </summary>
    private async Task<DateTimeOffset> SeedAsync(IRatchetStore store)
    {
        var creator = new WorkflowCreator(store, Clock);
        var start = Now;
        var cutoff = start.AddDays(10);

        async Task AddAsync(string id, int day, params WorkflowStatus[] path)
        {
            Clock.SetUtcNow(start.AddDays(day));
            var created = await creator.CreateAsync(new NewWorkflow { Type = DefaultType, Id = id });
            await MoveAsync(store, created.Workflow, path);
        }

        await AddAsync("pending-old", 0);
        await AddAsync("running-old", 0, WorkflowStatus.Running);
        await AddAsync("waiting-old", 0, WorkflowStatus.Running, WorkflowStatus.Waiting);
        await AddAsync("completed-old", 7, WorkflowStatus.Running, WorkflowStatus.Completed);
        await AddAsync("failed-old", 8, WorkflowStatus.Failed);
        await AddAsync("cancelled-old", 9, WorkflowStatus.Cancelled);
        await AddAsync("completed-at-cutoff", 10, WorkflowStatus.Running, WorkflowStatus.Completed);
        await AddAsync("completed-recent", 11, WorkflowStatus.Running, WorkflowStatus.Completed);
        Clock.SetUtcNow(start.AddDays(12));
        return cutoff;
    }
}
