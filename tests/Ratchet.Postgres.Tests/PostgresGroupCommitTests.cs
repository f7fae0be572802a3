using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Postgres.Tests;

/// <summary>
/// Node commits that arrive together are merged into one statement (<see cref="PostgresStoreOptions.MaxCommitBatch"/>);
/// each must still succeed or be refused on its own, as if it had been written alone.
/// </summary>
public sealed class PostgresGroupCommitTests : IAsyncLifetime
{
    private const int Workflows = 300;
    private readonly ScratchSchema _schema = new();
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _schema.DisposeAsync().AsTask();

    [StoreFact]
    public async Task CommitAsync_ManyNodeCommitsAtOnceSomeStaleOrMissing_EachRefusedOrAppliedOnItsOwn()
    {
        await using var store = await _schema.OpenAsync(_clock);
        var now = _clock.GetStoreNow();
        var created = new List<WorkflowRecord>();
        for (var i = 0; i < Workflows; i++)
        {
            var record = Records.Workflow($"wf-{i:D3}", now);
            await store.CommitAsync(new ChangeSet().CreateWorkflow(record));
            created.Add(record with { Version = 1 });
        }

        // Every workflow gets a valid node commit; every third also a stale one (an old version), and a few commits
        // name workflows that do not exist. All are sent at once so that they share batches.
        var valid = created.Select(r => store.CommitAsync(NodeCommit(r, r.Version, "a"))).ToList();
        var stale = created.Where((_, i) => i % 3 == 0).Select(r => (r.Id, Task: store.CommitAsync(NodeCommit(r, r.Version + 5, "stale")))).ToList();
        var missing = Enumerable.Range(0, 5).Select(i => store.CommitAsync(NodeCommit(Records.Workflow($"ghost-{i}", now) with { Version = 1 }, 1, "ghost"))).ToList();

        await Task.WhenAll(valid);
        foreach (var (id, task) in stale)
        {
            var refused = await Assert.ThrowsAsync<WorkflowConcurrencyException>(() => task);
            Assert.Equal((id, 6L), (refused.WorkflowId, refused.ExpectedVersion));

            // Before or after the valid commit of the same workflow, whichever was written first.
            Assert.InRange(refused.ActualVersion, 1L, 2L);
        }

        foreach (var task in missing)
        {
            await Assert.ThrowsAsync<WorkflowNotFoundException>(() => task);
        }

        foreach (var record in created)
        {
            var stored = await store.GetWorkflowAsync(record.Id);
            Assert.Equal((2L, WorkflowStatus.Running, "a"), (stored!.Version, stored.Status, stored.CurrentNode));
            var steps = await store.GetStepsAsync(record.Id);
            Assert.Equal([(1L, "a")], steps.Select(s => (s.Sequence, s.Node)));
            var events = await store.GetEventsAsync(record.Id);
            Assert.Equal([(1L, "one"), (2L, "two")], events.Select(e => (e.Sequence, e.Type)));
        }
    }

    [StoreFact]
    public async Task CommitAsync_TwoNodeCommitsForOneWorkflowAtOnce_ExactlyOneApplied()
    {
        await using var store = await _schema.OpenAsync(_clock);
        var now = _clock.GetStoreNow();
        var records = Enumerable.Range(0, 50).Select(i => Records.Workflow($"twin-{i:D2}", now)).ToList();
        foreach (var record in records)
        {
            await store.CommitAsync(new ChangeSet().CreateWorkflow(record));
        }

        var pairs = records.Select(r => r with { Version = 1 })
            .Select(r => (Left: store.CommitAsync(NodeCommit(r, 1, "left")), Right: store.CommitAsync(NodeCommit(r, 1, "right"))))
            .ToList();

        foreach (var (left, right) in pairs)
        {
            var outcomes = await Task.WhenAll(Outcome(left), Outcome(right));
            Assert.Equal(1, outcomes.Count(ok => ok));
        }

        foreach (var record in records)
        {
            Assert.Single(await store.GetStepsAsync(record.Id));
            Assert.Equal(2, (await store.GetWorkflowAsync(record.Id))!.Version);
        }
    }

    private static async Task<bool> Outcome(Task commit)
    {
        try
        {
            await commit;
            return true;
        }
        catch (WorkflowConcurrencyException)
        {
            return false;
        }
    }

    private ChangeSet NodeCommit(WorkflowRecord record, long expectedVersion, string node)
    {
        var now = _clock.GetStoreNow();
        return new ChangeSet()
            .UpdateWorkflow(record.TransitionTo(WorkflowStatus.Running, now) with { Version = expectedVersion, CurrentNode = node })
            .AppendStep(new StepRecord { WorkflowId = record.Id, Node = node, Outcome = StepOutcome.Completed, StartedAt = now, FinishedAt = now })
            .AppendEvent(new AuditEvent { WorkflowId = record.Id, Type = "one", At = now })
            .AppendEvent(new AuditEvent { WorkflowId = record.Id, Type = "two", Node = node, At = now });
    }
}
