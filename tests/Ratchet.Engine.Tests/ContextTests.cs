using System.Collections.Concurrent;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 3, point 2: what a node sees and does through its <see cref="NodeContext"/>.</summary>
public sealed class ContextTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Context_Input_ReadsAsTypedObjectAndAsJson()
    {
        IssueInput? typed = null;
        int? raw = null;
        string? id = null;
        var definition = new WorkflowBuilder("input")
            .Node("Read", (context, _) =>
            {
                typed = context.GetInput<IssueInput>();
                raw = context.Input!.Value.GetProperty("issue").GetInt32();
                id = context.WorkflowId;
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("input", new IssueInput(42, "Crash on start"));

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        Assert.Equal(new IssueInput(42, "Crash on start"), typed);
        Assert.Equal(42, raw);
        Assert.Equal(started.Id, id);
        Assert.Equal("Crash on start", started.Input!.Value.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Context_SetArtifacts_CommittedWithTheNodeAndSeenByLaterNodes()
    {
        WorkflowEngine? engine = null;
        WorkflowRecord? storedWhenBRan = null;
        Plan? planSeenByB = null;
        string? outputSeenByB = null;
        var definition = new WorkflowBuilder("artifacts")
            .Node("A", (context, _) =>
            {
                context.Set("plan", new Plan(["edit a.cs", "edit b.cs"]));
                // A value set in this node is visible to it at once.
                Assert.Equal(2, context.Get<Plan>("plan").Steps.Count);
                return Task.FromResult(NodeResult.Success("analysis"));
            }).Then("B")
            .Node("B", async (context, cancellationToken) =>
            {
                storedWhenBRan = await engine!.Store.GetRequiredWorkflowAsync(context.WorkflowId, cancellationToken);
                planSeenByB = context.Get<Plan>("plan");
                outputSeenByB = context.Get<string>("A");
                return NodeResult.Success();
            })
            .Build();
        engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        await using var disposeEngine = engine;
        var started = await engine.StartAsync("artifacts");

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        // Before B ran, the store already held A's output and A's Set value, with B as the current node.
        Assert.NotNull(storedWhenBRan);
        Assert.Equal("B", storedWhenBRan.CurrentNode);
        Assert.Equal("analysis", storedWhenBRan.Artifacts["A"].GetString());
        Assert.Equal(["edit a.cs", "edit b.cs"], storedWhenBRan.Artifacts["plan"].GetProperty("steps").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new[] { "edit a.cs", "edit b.cs" }, planSeenByB!.Steps);
        Assert.Equal("analysis", outputSeenByB);
        var final = await engine.Store.GetRequiredWorkflowAsync(started.Id);
        Assert.Equal(["A", "B", "plan"], final.Artifacts.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Context_SetThenFail_ArtifactIsNotCommitted()
    {
        bool? draftVisibleToRecover = null;
        var definition = new WorkflowBuilder("set-then-fail")
            .Node("Write", (context, _) =>
            {
                context.Set("draft", "half done");
                throw new InvalidOperationException("crashed while writing");
            }).WithRetry(RetryPolicy.None).OnFailure("Recover")
            .Node("Recover", (context, _) =>
            {
                draftVisibleToRecover = context.TryGet<string>("draft", out var draft) && draft is not null;
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("set-then-fail");

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        Assert.False(draftVisibleToRecover);
        var final = await engine.Store.GetRequiredWorkflowAsync(started.Id);
        Assert.Equal(WorkflowStatus.Completed, final.Status);
        Assert.False(final.Artifacts.ContainsKey("draft"));
        Assert.False(final.Artifacts.ContainsKey("Write"));
    }

    [Fact]
    public async Task Context_GetMissingArtifact_FailsTheNodeNamingTheKey()
    {
        var definition = new WorkflowBuilder("missing-artifact")
            .Node("A", Nodes.Ok(1)).Then("B")
            .Node("B", (context, _) => Task.FromResult(NodeResult.Success(context.Get<string>("nope")))).WithRetry(RetryPolicy.None)
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("missing-artifact");

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var final = await engine.Store.GetRequiredWorkflowAsync(started.Id);
        Assert.Equal(WorkflowStatus.Failed, final.Status);
        Assert.Contains($"Workflow '{started.Id}' has no artifact 'nope'. Artifacts: A.", final.Error!.Message);
    }

    [Fact]
    public async Task Context_AttemptAndIdempotencyKey_FollowTheNodeAttempt()
    {
        var seen = new ConcurrentQueue<(int Attempt, string Key)>();
        var definition = new WorkflowBuilder("attempts")
            .Node("Flaky", (context, _) =>
            {
                seen.Enqueue((context.Attempt, context.IdempotencyKey));
                return context.Attempt < 3 ? throw new InvalidOperationException("not yet") : Task.FromResult(NodeResult.Success());
            }).WithRetry(Nodes.Retry(3, TimeSpan.FromMilliseconds(10)))
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, definition);
        var started = await engine.StartAsync("attempts", options: new StartOptions { Id = "attempts-1" });

        using var timeout = Within.Seconds();
        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        Assert.Equal([(1, "attempts-1/Flaky/1"), (2, "attempts-1/Flaky/2"), (3, "attempts-1/Flaky/3")], seen);
        Assert.Equal([(1, StepOutcome.Failed), (2, StepOutcome.Failed), (3, StepOutcome.Completed)],
            (await engine.Store.GetStepsAsync(started.Id)).Select(s => (s.Attempt, s.Outcome)));
    }

    [Fact]
    public async Task Context_ReportProgress_ReachesObserversAndAuditTrail()
    {
        var observer = new RecordingObserver();
        var definition = new WorkflowBuilder("progress")
            .Node("Work", async (context, cancellationToken) =>
            {
                await context.ReportProgressAsync("halfway", cancellationToken);
                await context.ReportProgressAsync("almost there", cancellationToken);
                return NodeResult.Success();
            })
            .Build();
        var engine = await TestEngines.Builder(_scratch.Database).AddWorkflow(definition).AddObserver(observer).BuildAsync();
        WorkflowRecord started;
        await using (engine)
        {
            started = await engine.StartAsync("progress");
            using var timeout = Within.Seconds();
            await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);
        }

        // Disposing the engine delivered every queued event.
        var progress = observer.For(started.Id).Where(e => e.Kind == WorkflowEventKind.Progress).ToArray();
        Assert.Equal(["halfway", "almost there"], progress.Select(e => e.Message));
        Assert.All(progress, e => Assert.Equal(("Work", 1), (e.Node, e.Attempt)));

        await using var store = await Ratchet.Sqlite.SqliteRatchetStore.OpenAsync(new Ratchet.Sqlite.SqliteStoreOptions { Path = _scratch.Database });
        var events = await store.GetEventsAsync(started.Id);
        var audited = events.Where(e => e.Type == "progress").ToArray();
        Assert.Equal(["halfway", "almost there"], audited.Select(e => e.Payload!.Value.GetProperty("message").GetString()));
        Assert.All(audited, e => Assert.Equal("Work", e.Node));
        // Kept with the node's result: in the same commit, before its node-completed event.
        var completed = events.Single(e => e.Type == AuditEventTypes.NodeCompleted);
        Assert.All(audited, e => Assert.True(e.Sequence < completed.Sequence));
    }

    private sealed record IssueInput(int Issue, string Title);

    private sealed record Plan(IReadOnlyList<string> Steps);
}
