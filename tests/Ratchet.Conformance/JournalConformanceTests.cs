using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Audit events, journal steps, command executions and workspaces.</summary>
public abstract class JournalConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task AppendEvent_ThreeInOneChangeSet_GetsSequences123InOrder()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        await store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("wf-1", "first") with { Sequence = 99 })
            .AppendEvent(NewEvent("wf-1", "second"))
            .AppendEvent(NewEvent("wf-1", "third") with { Sequence = -4 }));

        var events = await store.GetEventsAsync("wf-1");
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Sequence));
        Assert.Equal(["first", "second", "third"], events.Select(e => e.Type));
        Assert.All(events, e => Assert.Equal("wf-1", e.WorkflowId));
    }

    [StoreFact]
    public async Task AppendEvent_LaterChangeSets_ContinueTheSequence()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "a")).AppendEvent(NewEvent("wf-1", "b")));

        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "c")));
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "d")).AppendEvent(NewEvent("wf-1", "e")));

        var events = await store.GetEventsAsync("wf-1");
        Assert.Equal([1L, 2L, 3L, 4L, 5L], events.Select(e => e.Sequence));
        Assert.Equal(["a", "b", "c", "d", "e"], events.Select(e => e.Type));
    }

    [StoreFact]
    public async Task AppendEvent_TwoWorkflowsInterleaved_EachHasItsOwnSequence()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await InsertAsync(store, "wf-2");

        await store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("wf-1", "1a"))
            .AppendEvent(NewEvent("wf-2", "2a"))
            .AppendEvent(NewEvent("wf-1", "1b")));
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-2", "2b")).AppendEvent(NewEvent("wf-1", "1c")));

        var first = await store.GetEventsAsync("wf-1");
        var second = await store.GetEventsAsync("wf-2");
        Assert.Equal([(1L, "1a"), (2L, "1b"), (3L, "1c")], first.Select(e => (e.Sequence, e.Type)));
        Assert.Equal([(1L, "2a"), (2L, "2b")], second.Select(e => (e.Sequence, e.Type)));
    }

    [StoreFact]
    public async Task AppendEvent_AfterRefusedChangeSets_SequenceHasNoGap()
    {
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "a")).AppendStep(NewStep("wf-1", "a")));

        await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("wf-1", "refused-1"))
            .AppendEvent(NewEvent("wf-1", "refused-2"))
            .AppendStep(NewStep("wf-1", "refused"))
            .RecordCommand(NewCommand("wf-1", "refused"))
            .ExpectWorkflowVersion("wf-1", record.Version + 1)));
        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("wf-1", "refused-3"))
            .AppendEvent(NewEvent("ghost", "refused-4"))));
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "b")).AppendStep(NewStep("wf-1", "b")).RecordCommand(NewCommand("wf-1", "b")));

        Assert.Equal([(1L, "a"), (2L, "b")], (await store.GetEventsAsync("wf-1")).Select(e => (e.Sequence, e.Type)));
        Assert.Equal([(1L, "a"), (2L, "b")], (await store.GetStepsAsync("wf-1")).Select(s => (s.Sequence, s.Node)));
        Assert.Equal([(1L, "b")], (await store.GetCommandsAsync("wf-1")).Select(c => (c.Sequence, c.CommandLine)));
    }

    [StoreFact]
    public async Task AppendEvent_Fields_RoundTrip()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var rich = SampleRecords.RichEvent("wf-1", Now);
        var bare = new AuditEvent { WorkflowId = "wf-1", Type = AuditEventTypes.Approved, At = Now.AddSeconds(1) };

        await store.CommitAsync(new ChangeSet().AppendEvent(rich).AppendEvent(bare));

        RecordAssert.SameSequence([rich with { Sequence = 1 }, bare with { Sequence = 2 }], await store.GetEventsAsync("wf-1"));
    }

    [StoreFact]
    public async Task GetEventsAsync_AfterSequenceAndLimit_ReturnsThatWindowInOrder()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var changes = new ChangeSet();
        for (var i = 1; i <= 10; i++)
        {
            changes.AppendEvent(NewEvent("wf-1", $"e{i}"));
        }

        await store.CommitAsync(changes);

        Assert.Equal(["e8", "e9", "e10"], (await store.GetEventsAsync("wf-1", afterSequence: 7)).Select(e => e.Type));
        Assert.Equal(["e4", "e5"], (await store.GetEventsAsync("wf-1", afterSequence: 3, limit: 2)).Select(e => e.Type));
        Assert.Equal(["e1", "e2", "e3"], (await store.GetEventsAsync("wf-1", limit: 3)).Select(e => e.Type));
        Assert.Equal(10, (await store.GetEventsAsync("wf-1", afterSequence: 0)).Count);
        Assert.Empty(await store.GetEventsAsync("wf-1", afterSequence: 10));
        Assert.Empty(await store.GetEventsAsync("wf-1", afterSequence: 50));
    }

    [StoreFact]
    public async Task GetEventsAsync_WorkflowWithoutEvents_ReturnsEmpty()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await InsertAsync(store, "wf-2");
        await store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-2")));

        Assert.Empty(await store.GetEventsAsync("wf-1"));
        Assert.Empty(await store.GetStepsAsync("wf-1"));
        Assert.Empty(await store.GetCommandsAsync("wf-1"));
    }

    [StoreFact]
    public async Task AppendStep_SeveralChangeSets_JournalInSequenceOrderWithFields()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var analyze = NewStep("wf-1", "analyze", Json("""{"files":3}"""));
        var failed = SampleRecords.RichStep("wf-1", Now);
        var cancelled = NewStep("wf-1", "implement") with { Outcome = StepOutcome.Cancelled, Attempt = 3, Sequence = 7 };

        await store.CommitAsync(new ChangeSet().AppendStep(analyze).AppendStep(failed));
        await store.CommitAsync(new ChangeSet().AppendStep(cancelled));

        RecordAssert.SameSequence(
            [analyze with { Sequence = 1 }, failed with { Sequence = 2 }, cancelled with { Sequence = 3 }],
            await store.GetStepsAsync("wf-1"));
    }

    [StoreFact]
    public async Task CommitAsync_EventsStepsAndCommands_HaveSeparateSequences()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        await store.CommitAsync(new ChangeSet()
            .AppendEvent(NewEvent("wf-1", "a"))
            .AppendStep(NewStep("wf-1", "plan"))
            .AppendEvent(NewEvent("wf-1", "b"))
            .RecordCommand(NewCommand("wf-1", "make"))
            .AppendEvent(NewEvent("wf-1", "c")));
        await store.CommitAsync(new ChangeSet()
            .RecordCommand(NewCommand("wf-1", "make test"))
            .AppendStep(NewStep("wf-1", "build")));

        Assert.Equal([1L, 2L, 3L], (await store.GetEventsAsync("wf-1")).Select(e => e.Sequence));
        Assert.Equal([(1L, "plan"), (2L, "build")], (await store.GetStepsAsync("wf-1")).Select(s => (s.Sequence, s.Node)));
        Assert.Equal([(1L, "make"), (2L, "make test")], (await store.GetCommandsAsync("wf-1")).Select(c => (c.Sequence, c.CommandLine)));
    }

    [StoreFact]
    public async Task RecordCommand_Fields_RoundTripIncludingNullExitCodeAndDuration()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var killed = SampleRecords.RichCommand("wf-1", Now);
        var succeeded = NewCommand("wf-1", "git push") with { ExitCode = 0, Duration = TimeSpan.FromMicroseconds(1), StdoutTail = "", StderrTail = "" };
        var failed = NewCommand("wf-1", "exit 3") with { ExitCode = -3, Duration = TimeSpan.FromHours(26) + TimeSpan.FromMicroseconds(5) };

        await store.CommitAsync(new ChangeSet().RecordCommand(killed).RecordCommand(succeeded).RecordCommand(failed));

        var commands = await store.GetCommandsAsync("wf-1");
        RecordAssert.SameSequence([killed with { Sequence = 1 }, succeeded with { Sequence = 2 }, failed with { Sequence = 3 }], commands);
        Assert.Null(commands[0].ExitCode);
        Assert.Equal(TimeSpan.FromMicroseconds(600_123_457), commands[0].Duration);
        Assert.Equal(-3, commands[2].ExitCode);
        Assert.Equal(TimeSpan.FromHours(26) + TimeSpan.FromMicroseconds(5), commands[2].Duration);
    }

    [StoreFact]
    public async Task PutWorkspace_New_GetReturnsIt()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var workspace = SampleRecords.RichWorkspace("wf-1", Now);

        await store.CommitAsync(new ChangeSet().PutWorkspace(workspace));

        RecordAssert.Same(workspace, await store.GetWorkspaceAsync("wf-1"));
    }

    [StoreFact]
    public async Task PutWorkspace_Existing_ReplacesIt()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        var workspace = NewWorkspace("wf-1");
        await store.CommitAsync(new ChangeSet().PutWorkspace(workspace));
        Clock.Advance(TimeSpan.FromMinutes(2));

        var heartbeat = workspace with { HeartbeatAt = Now, Status = WorkspaceStatus.Completed, Path = "/moved" };
        await store.CommitAsync(new ChangeSet().PutWorkspace(heartbeat));

        RecordAssert.Same(heartbeat, await store.GetWorkspaceAsync("wf-1"));
        Assert.Single(await store.ListWorkspacesAsync());
    }

    [StoreFact]
    public async Task GetWorkspaceAsync_WorkflowWithoutWorkspace_ReturnsNull()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await InsertAsync(store, "wf-2");
        await store.CommitAsync(new ChangeSet().PutWorkspace(NewWorkspace("wf-2")));

        Assert.Null(await store.GetWorkspaceAsync("wf-1"));
        Assert.Null(await store.GetWorkspaceAsync("unknown"));
    }

    [StoreFact]
    public async Task ListWorkspacesAsync_ByStatus_ReturnsMatchingOrderedByWorkflowId()
    {
        var store = await CreateStoreAsync();
        var statuses = new Dictionary<string, WorkspaceStatus>
        {
            ["wf-d"] = WorkspaceStatus.Active,
            ["wf-b"] = WorkspaceStatus.Orphaned,
            ["wf-a"] = WorkspaceStatus.Active,
            ["wf-c"] = WorkspaceStatus.Failed,
            ["wf-e"] = WorkspaceStatus.Orphaned,
            ["wf-f"] = WorkspaceStatus.Completed,
        };
        var changes = new ChangeSet();
        foreach (var (id, status) in statuses)
        {
            changes.CreateWorkflow(NewWorkflow(id)).PutWorkspace(NewWorkspace(id, status));
        }

        await store.CommitAsync(changes);
        await InsertAsync(store, "wf-0-none");

        Assert.Equal(["wf-a", "wf-b", "wf-c", "wf-d", "wf-e", "wf-f"], (await store.ListWorkspacesAsync()).Select(w => w.WorkflowId));
        Assert.Equal(["wf-a", "wf-d"], (await store.ListWorkspacesAsync(WorkspaceStatus.Active)).Select(w => w.WorkflowId));
        Assert.Equal(["wf-b", "wf-e"], (await store.ListWorkspacesAsync(WorkspaceStatus.Orphaned)).Select(w => w.WorkflowId));
        Assert.Equal(["wf-c"], (await store.ListWorkspacesAsync(WorkspaceStatus.Failed)).Select(w => w.WorkflowId));
        var orphan = (await store.ListWorkspacesAsync(WorkspaceStatus.Orphaned))[0];
        RecordAssert.Same(NewWorkspace("wf-b", WorkspaceStatus.Orphaned), orphan);
    }

    [StoreFact]
    public async Task ListWorkspacesAsync_NoneInStatus_ReturnsEmpty()
    {
        var store = await CreateStoreAsync();
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("wf-1")).PutWorkspace(NewWorkspace("wf-1", WorkspaceStatus.Active)));

        Assert.Empty(await store.ListWorkspacesAsync(WorkspaceStatus.Orphaned));
        Assert.Single(await store.ListWorkspacesAsync(WorkspaceStatus.Active));
    }
}
