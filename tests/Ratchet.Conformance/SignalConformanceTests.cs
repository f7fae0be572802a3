using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Buffered signals: sent before a workflow waits for them, consumed once, in the commit that completes the wait.</summary>
public abstract class SignalConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    [StoreFact]
    public async Task SendSignal_ThreeSent_PendingInTheOrderSentWithSequencesAndPayloads()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", """{"run":1}""")));
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "deploy", null)).SendSignal(NewSignal("wf-1", "ci", """{"run":2}""") with { Sequence = 77 }));

        var pending = await store.GetPendingSignalsAsync("wf-1");
        Assert.Equal([(1L, "ci"), (2L, "deploy"), (3L, "ci")], pending.Select(s => (s.Sequence, s.Name)));
        Assert.Equal("""{"run":1}""", pending[0].Payload!.Value.GetRawText());
        Assert.Null(pending[1].Payload);
        Assert.Equal(Now, pending[0].SentAt);
        Assert.All(pending, s => Assert.Equal("wf-1", s.WorkflowId));
        Assert.Empty(await store.GetPendingSignalsAsync("no-such-workflow"));
    }

    [StoreFact]
    public async Task SendSignal_UnknownWorkflow_RefusedAndNothingWritten()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");

        await Assert.ThrowsAsync<WorkflowNotFoundException>(() => store.CommitAsync(new ChangeSet()
            .SendSignal(NewSignal("wf-1", "ci", null))
            .SendSignal(NewSignal("ghost", "ci", null))));

        Assert.Empty(await store.GetPendingSignalsAsync("wf-1"));
    }

    [StoreFact]
    public async Task ConsumeSignal_WithTheWorkflowsUpdate_RemovedAtomicallyAndOnlyOnce()
    {
        var store = await CreateStoreAsync();
        var workflow = await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", "1")).SendSignal(NewSignal("wf-1", "ci", "2")));

        await store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(workflow with { CurrentNode = "after", UpdatedAt = Now })
            .AppendEvent(NewEvent("wf-1", "signal"))
            .ConsumeSignal("wf-1", 1));

        Assert.Equal(["2"], (await store.GetPendingSignalsAsync("wf-1")).Select(s => s.Payload!.Value.GetRawText()));
        var again = await Assert.ThrowsAsync<SignalConflictException>(() => store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(workflow with { Version = 2, CurrentNode = "twice", UpdatedAt = Now })
            .ConsumeSignal("wf-1", 1)));
        Assert.Equal(("wf-1", 1L), (again.WorkflowId, again.Sequence));
        // The refused commit wrote nothing: neither the workflow nor the other signal moved.
        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Equal(("after", 2L), (stored.CurrentNode, stored.Version));
        Assert.Single(await store.GetPendingSignalsAsync("wf-1"));
    }

    [StoreFact]
    public async Task ConsumeSignal_RefusedByTheWorkflowsVersion_SignalStaysPending()
    {
        var store = await CreateStoreAsync();
        var workflow = await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", "1")));
        await UpdateAsync(store, workflow with { UpdatedAt = Now });

        await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(workflow with { CurrentNode = "stale" })
            .ConsumeSignal("wf-1", 1)));

        Assert.Equal([1L], (await store.GetPendingSignalsAsync("wf-1")).Select(s => s.Sequence));
    }

    [StoreFact]
    public async Task ExpectNoPendingSignal_OneOfThatNamePending_RefusedAndNothingWritten()
    {
        var store = await CreateStoreAsync();
        var workflow = await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", null)));

        // Another name is no obstacle.
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(workflow with { UpdatedAt = Now }).ExpectNoPendingSignal("wf-1", "deploy"));
        var refused = await Assert.ThrowsAsync<SignalConflictException>(() => store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(workflow with { Version = 2, Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Signal, WaitDetail = "ci" })
            .AppendEvent(NewEvent("wf-1", "waiting"))
            .ExpectNoPendingSignal("wf-1", "ci")));

        Assert.Equal(("wf-1", "ci"), (refused.WorkflowId, refused.Signal));
        var stored = await store.GetRequiredWorkflowAsync("wf-1");
        Assert.Equal((2L, WaitReason.None), (stored.Version, stored.WaitReason));
        Assert.DoesNotContain(await store.GetEventsAsync("wf-1"), e => e.Type == "waiting");
        // Once consumed, the same condition holds (a change set's consumes come before its checks).
        await store.CommitAsync(new ChangeSet().UpdateWorkflow(stored with { UpdatedAt = Now }).ConsumeSignal("wf-1", 1).ExpectNoPendingSignal("wf-1", "ci"));
        Assert.Empty(await store.GetPendingSignalsAsync("wf-1"));
    }

    [StoreFact]
    public async Task SendAndPark_Racing_OneCommitSeesTheOther()
    {
        // The engine's protocol: a sender buffers on the condition that the workflow is still at the version it read;
        // a workflow parks (a version-moving update) on the condition that no signal of the name is pending. However the
        // two interleave, the signal is never left pending beside a workflow waiting for it.
        for (var round = 0; round < 10; round++)
        {
            var store = await CreateStoreAsync();
            var workflow = await InsertAsync(store, $"wf-{round}");
            var send = Task.Run(() => store.CommitAsync(new ChangeSet()
                .ExpectWorkflowVersion(workflow.Id, workflow.Version)
                .SendSignal(NewSignal(workflow.Id, "ci", null))));
            var park = Task.Run(() => store.CommitAsync(new ChangeSet()
                .UpdateWorkflow(workflow with { Status = WorkflowStatus.Waiting, WaitReason = WaitReason.Signal, WaitDetail = "ci" })
                .ExpectNoPendingSignal(workflow.Id, "ci")));
            var outcomes = await Task.WhenAll(Outcome(send), Outcome(park));

            var stored = await store.GetRequiredWorkflowAsync(workflow.Id);
            var pending = await store.GetPendingSignalsAsync(workflow.Id);
            Assert.Single(outcomes, o => o is null);
            if (outcomes[0] is null)
            {
                Assert.IsType<SignalConflictException>(outcomes[1]);
                Assert.Equal((WaitReason.None, 1), (stored.WaitReason, pending.Count));
            }
            else
            {
                Assert.IsType<WorkflowConcurrencyException>(outcomes[0]);
                Assert.Equal((WaitReason.Signal, 0), (stored.WaitReason, pending.Count));
            }
        }
    }

    [StoreFact]
    public async Task ConsumeSignal_TwoRacingConsumers_ExactlyOneSucceeds()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", null)));

        var outcomes = await Task.WhenAll(
            Outcome(Task.Run(() => store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "a")).ConsumeSignal("wf-1", 1)))),
            Outcome(Task.Run(() => store.CommitAsync(new ChangeSet().AppendEvent(NewEvent("wf-1", "b")).ConsumeSignal("wf-1", 1)))));

        Assert.Single(outcomes, o => o is null);
        Assert.Single(outcomes, o => o is SignalConflictException);
        Assert.Single(await store.GetEventsAsync("wf-1"));
        Assert.Empty(await store.GetPendingSignalsAsync("wf-1"));
    }

    [StoreFact]
    public async Task DeleteWorkflow_WithPendingSignals_RemovesThemToo()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await InsertAsync(store, "wf-2");
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", "1")).SendSignal(NewSignal("wf-2", "ci", "2")));

        Assert.True(await store.DeleteWorkflowAsync("wf-1"));

        Assert.Empty(await store.GetPendingSignalsAsync("wf-1"));
        Assert.Single(await store.GetPendingSignalsAsync("wf-2"));
        // A workflow created again under the id starts with none.
        await InsertAsync(store, "wf-1");
        Assert.Empty(await store.GetPendingSignalsAsync("wf-1"));
        Assert.DoesNotContain((await store.ExportAsync()).Signals, s => s.WorkflowId == "wf-1");
    }

    [StoreFact]
    public async Task ExportImport_PendingSignals_RoundTripWithSequencesAndContinue()
    {
        var source = await CreateStoreAsync();
        var workflow = await InsertAsync(source, "wf-1");
        await source.CommitAsync(new ChangeSet()
            .SendSignal(NewSignal("wf-1", "ci", SampleRecords.TrickyJson))
            .SendSignal(NewSignal("wf-1", "deploy", null))
            .SendSignal(NewSignal("wf-1", "ci", "3")));
        await source.CommitAsync(new ChangeSet().UpdateWorkflow(workflow with { UpdatedAt = Now }).ConsumeSignal("wf-1", 1));

        var snapshot = await source.ExportAsync();
        Assert.Equal([2L, 3L], snapshot.Signals.Select(s => s.Sequence));
        var target = await CreateStoreAsync();
        await target.ImportAsync(snapshot);

        Assert.Equal(await SnapshotTextAsync(snapshot), await ExportTextAsync(target));
        var imported = await target.GetPendingSignalsAsync("wf-1");
        Assert.Equal([(2L, "deploy"), (3L, "ci")], imported.Select(s => (s.Sequence, s.Name)));
        // Sending goes on after the highest imported sequence.
        await target.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", "4")));
        Assert.Equal([2L, 3L, 4L], (await target.GetPendingSignalsAsync("wf-1")).Select(s => s.Sequence));
    }

    [StoreFact]
    public async Task PendingSignals_SurviveReopen()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, "wf-1");
        await store.CommitAsync(new ChangeSet().SendSignal(NewSignal("wf-1", "ci", """{"ok":true}""")));

        var reopened = await ReopenAsync(store);

        var signal = Assert.Single(await reopened.GetPendingSignalsAsync("wf-1"));
        Assert.Equal(("ci", """{"ok":true}"""), (signal.Name, signal.Payload!.Value.GetRawText()));
    }

    private SignalRecord NewSignal(string workflowId, string name, string? payload) => new()
    {
        WorkflowId = workflowId, Name = name, Payload = payload is null ? null : Json(payload), SentAt = Now,
    };

    private static async Task<Exception?> Outcome(Task commit)
    {
        try
        {
            await commit;
            return null;
        }
        catch (RatchetException ex)
        {
            return ex;
        }
    }
}
