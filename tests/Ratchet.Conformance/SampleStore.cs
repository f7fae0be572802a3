using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Conformance;

/// <summary>
/// A store filled with one of everything: rich and tricky records, a parent and child, failed, completed and archived
/// workflows, key-value state with checkpoints (one namespace left with a checkpoint only). Export, import and migration
/// tests compare such a store's export before and after.
/// </summary>
public static class SampleStore
{
    /// <summary>Fills <paramref name="store"/>, moving <paramref name="clock"/> along; <paramref name="extraWorkflows"/> more plain workflows with a journal each.</summary>
    public static async Task PopulateAsync(IRatchetStore store, FakeTimeProvider clock, int extraWorkflows = 0)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(clock);
        DateTimeOffset Now() => clock.GetStoreNow();
        AuditEvent Event(string workflowId, string type, JsonElement? payload = null) => new() { WorkflowId = workflowId, Type = type, Payload = payload, At = Now() };
        StepRecord Step(string workflowId, string node, JsonElement? output = null) => new()
        {
            WorkflowId = workflowId, Node = node, Outcome = StepOutcome.Completed, Output = output, StartedAt = Now(), FinishedAt = Now(),
        };
        async Task<WorkflowRecord> MoveAsync(WorkflowRecord record, params WorkflowStatus[] path)
        {
            foreach (var status in path)
            {
                var reason = status == WorkflowStatus.Waiting ? WaitReason.Signal : WaitReason.None;
                await store.CommitAsync(new ChangeSet().UpdateWorkflow(record.TransitionTo(status, Now(), reason) with { UpdatedAt = Now() }));
                record = await store.GetRequiredWorkflowAsync(record.Id);
            }

            return record;
        }

        clock.SetUtcNow(TestClock.Start.AddTicks(1_234_567));
        var creator = new WorkflowCreator(store, clock);
        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(SampleRecords.RichWorkflow("wf-rich", clock.GetUtcNow()))
            .AppendEvent(Event("wf-rich", AuditEventTypes.Created))
            .AppendEvent(SampleRecords.RichEvent("wf-rich", clock.GetUtcNow()))
            .AppendStep(Step("wf-rich", "analyze", Json("""{"ok":true}""")))
            .AppendStep(SampleRecords.RichStep("wf-rich", clock.GetUtcNow()))
            .RecordCommand(SampleRecords.RichCommand("wf-rich", clock.GetUtcNow()))
            .RecordCommand(new CommandExecution
            {
                WorkflowId = "wf-rich", Node = "build", CommandLine = "git status", WorkingDirectory = "/tmp/work", ExitCode = 0,
                Duration = TimeSpan.FromMilliseconds(250), StartedAt = Now(),
            })
            .PutWorkspace(SampleRecords.RichWorkspace("wf-rich", clock.GetUtcNow())));
        await store.CommitAsync(new ChangeSet().AppendEvent(Event("wf-rich", AuditEventTypes.Waiting, Json("""{"reason":"approval"}"""))));

        clock.Advance(TimeSpan.FromTicks(10_000_003));
        var parent = (await creator.CreateAsync(new NewWorkflow { Type = "parent", Id = "wf-parent", Input = Json("[1,2]") })).Workflow;
        await MoveAsync(parent, WorkflowStatus.Running);
        await creator.CreateAsync(new NewWorkflow { Type = "child", Id = "wf-child", ParentId = "wf-parent" });
        await store.CommitAsync(new ChangeSet().PutWorkspace(new WorkspaceRecord
        {
            WorkflowId = "wf-child", Path = "/var/ratchet/workspaces/wf-child", Status = WorkspaceStatus.Orphaned, CreatedAt = Now(), HeartbeatAt = Now(),
        }));

        clock.Advance(TimeSpan.FromTicks(10_000_005));
        var failed = (await creator.CreateAsync(new NewWorkflow { Type = "bug-fix", Id = "wf-failed" })).Workflow;
        failed = await MoveAsync(failed, WorkflowStatus.Running);
        await store.CommitAsync(new ChangeSet()
            .UpdateWorkflow(failed.TransitionTo(WorkflowStatus.Failed, Now()) with { Error = new WorkflowError("Boom", "it broke") })
            .AppendStep(Step("wf-failed", "build") with { Outcome = StepOutcome.Failed, Error = new WorkflowError("Boom", "it broke") })
            .AppendEvent(Event("wf-failed", AuditEventTypes.NodeFailed)));

        var done = (await creator.CreateAsync(new NewWorkflow { Type = "docs-update", Id = "wf-done" })).Workflow;
        await MoveAsync(done, WorkflowStatus.Running, WorkflowStatus.Completed);
        clock.Advance(TimeSpan.FromDays(1));
        var archived = await store.ArchiveWorkflowsAsync(Now().AddHours(-1).AddTicks(-7));
        if (archived != 2)
        {
            throw new InvalidOperationException($"The sample store archived {archived} workflows; expected the failed and the completed one.");
        }

        for (var index = 0; index < extraWorkflows; index++)
        {
            clock.Advance(TimeSpan.FromTicks(17));
            var id = $"wf-extra-{index:D4}";
            var extra = (await creator.CreateAsync(new NewWorkflow { Type = "extra", Id = id, Input = Json($$"""{"n":{{index}}}""") })).Workflow;
            extra = await MoveAsync(extra, WorkflowStatus.Running);
            await store.CommitAsync(new ChangeSet()
                .UpdateWorkflow(extra with { CurrentNode = "second", UpdatedAt = Now() })
                .AppendStep(Step(id, "first", Json($$"""{"n":{{index}},"text":"é 😀"}""")))
                .AppendEvent(Event(id, AuditEventTypes.NodeCompleted, Json("""{"node":"first"}"""))));
        }

        await store.SaveValueAsync("default", "a", Json("\"a1\""));
        await store.SaveValueAsync("default", "b", Json("\"b1\""));
        await store.CreateCheckpointAsync("default", "cp1");
        clock.Advance(TimeSpan.FromTicks(3));
        await store.SaveValueAsync("default", "b", Json("\"b2\""));
        await store.SaveValueAsync("wf-rich", "state", SampleRecords.Tricky);
        await store.CreateCheckpointAsync("wf-rich", "before");
        await store.SaveValueAsync("zz", "null", Json("null"));
        await store.SaveValueAsync("only-checkpoint", "k", Json("1"));
        await store.CreateCheckpointAsync("only-checkpoint", "kept");
        await store.DeleteValueAsync("only-checkpoint", "k");
    }

    private static JsonElement Json(string text) => RatchetJson.Parse(text);
}
