using System.Text.Json;
using Ratchet.Triggers;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 6, point 1: triggers start a workflow when another reaches a status, in the same commit.</summary>
public sealed class TriggerTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private static WorkflowDefinition Review(object output) => new WorkflowBuilder("review")
        .Node("Check", Nodes.Ok(output))
        .Build();

    private static WorkflowDefinition Deploy() => new WorkflowBuilder("deploy")
        .Node("Ship", (context, _) => Task.FromResult(NodeResult.Success(new { shipped = context.Input!.Value.GetProperty("pr").GetInt32() })))
        .Build();

    private async Task<WorkflowEngine> EngineAsync(params WorkflowDefinition[] definitions)
    {
        var builder = TestEngines.Builder(_scratch.Database);
        foreach (var definition in definitions)
        {
            builder.AddWorkflow(definition);
        }

        return await TestEngines.StartedAsync(builder);
    }

    private static async Task<IReadOnlyList<WorkflowRecord>> OfTypeAsync(WorkflowEngine engine, string type) =>
        (await engine.Store.ListWorkflowsAsync(new WorkflowQuery { Types = [type] })).Items;

    [Fact]
    public async Task Trigger_SourceCompletesAndConditionHolds_StartsTargetOnceWithTransformedInput()
    {
        await using var engine = await EngineAsync(Review(new { approved = true, pr = 42, title = "Fix it" }), Deploy());
        await engine.Triggers.AddAsync(new TriggerDefinition
        {
            Name = "deploy-approved",
            SourceType = "review",
            Condition = "output.approved and output.pr > 0",
            TargetType = "deploy",
            Input = new Dictionary<string, string> { ["pr"] = "output.pr", ["title"] = "'Deploy: ' + output.title", ["from"] = "workflow.id" },
        });
        using var timeout = Within.Seconds();

        var review = await engine.StartAsync("review", cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(review.Id, timeout.Token);
        var deploy = Assert.Single(await OfTypeAsync(engine, "deploy"));
        var done = await engine.WaitForCompletionAsync(deploy.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(42, done.Artifacts["Ship"].GetProperty("shipped").GetInt32());
        Assert.Equal("Deploy: Fix it", done.Input!.Value.GetProperty("title").GetString());
        Assert.Equal(review.Id, done.Input!.Value.GetProperty("from").GetString());
        var origin = done.Metadata!.Value.GetProperty("triggeredBy");
        Assert.Equal(("deploy-approved", review.Id, 1), (origin.GetProperty("trigger").GetString(), origin.GetProperty("workflow").GetString(), origin.GetProperty("depth").GetInt32()));
        var fired = Assert.Single(await engine.Store.GetEventsAsync(review.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.TriggerFired);
        Assert.Equal(deploy.Id, fired.Payload!.Value.GetProperty("workflow").GetString());
        var triggered = Assert.Single(await engine.Store.GetEventsAsync(deploy.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Triggered);
        Assert.Equal(review.Id, triggered.Payload!.Value.GetProperty("workflow").GetString());

        // Written by the review's completing commit: stamped with the moment the review completed.
        var reviewed = await engine.Store.GetRequiredWorkflowAsync(review.Id, timeout.Token);
        Assert.Equal(reviewed.CompletedAt, deploy.CreatedAt);
        Assert.Equal(reviewed.CompletedAt, fired.At);
    }

    [Fact]
    public async Task Trigger_ConditionFalse_NothingStarts()
    {
        await using var engine = await EngineAsync(Review(new { approved = false, pr = 7 }), Deploy());
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "t", SourceType = "review", Condition = "output.approved", TargetType = "deploy" });
        using var timeout = Within.Seconds();

        var review = await engine.StartAsync("review", cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(review.Id, timeout.Token);

        Assert.Empty(await OfTypeAsync(engine, "deploy"));
        Assert.DoesNotContain(await engine.Store.GetEventsAsync(review.Id, cancellationToken: timeout.Token), e => e.Type.StartsWith("trigger", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Trigger_TransformFails_SourceStillCompletesAndTheFailureIsAudited()
    {
        await using var engine = await EngineAsync(Review(new { approved = true, pr = "not a number" }), Deploy());

        // A property of a string is an error at evaluation, not at parsing.
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "broken", SourceType = "review", TargetType = "deploy", Input = new Dictionary<string, string> { ["pr"] = "output.pr.number" } });
        using var timeout = Within.Seconds();

        var review = await engine.StartAsync("review", cancellationToken: timeout.Token);
        var done = await engine.WaitForCompletionAsync(review.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Empty(await OfTypeAsync(engine, "deploy"));
        var failed = Assert.Single(await engine.Store.GetEventsAsync(review.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.TriggerFailed);
        Assert.Equal("broken", failed.Payload!.Value.GetProperty("trigger").GetString());
        Assert.Contains("pr", failed.Payload!.Value.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Trigger_OnFailedStatusAndById_FireForTheirWorkflowOnly()
    {
        var flaky = new WorkflowBuilder("flaky").Node("Boom", (_, _) => throw new InvalidOperationException("no")).WithRetry(RetryPolicy.None).Build();
        var report = new WorkflowBuilder("report").Node("Write", (context, _) => Task.FromResult(NodeResult.Success(context.Input))).Build();
        await using var engine = await EngineAsync(flaky, report);
        using var timeout = Within.Seconds();
        var watched = await engine.StartAsync("flaky", options: new StartOptions { Id = "watched" }, cancellationToken: timeout.Token);
        await engine.Triggers.AddAsync(new TriggerDefinition
        {
            Name = "on-failure", SourceWorkflowId = "other-one", OnStatus = WorkflowStatus.Failed, TargetType = "report",
        });
        await engine.Triggers.AddAsync(new TriggerDefinition
        {
            Name = "report-failure", SourceType = "flaky", OnStatus = WorkflowStatus.Failed, TargetType = "report",
            Input = new Dictionary<string, string> { ["error"] = "workflow.error.message", ["id"] = "workflow.id" },
        });

        var second = await engine.StartAsync("flaky", options: new StartOptions { Id = "second" }, cancellationToken: timeout.Token);
        await engine.WaitForCompletionAsync(watched.Id, timeout.Token);
        await engine.WaitForCompletionAsync(second.Id, timeout.Token);

        var reports = await OfTypeAsync(engine, "report");
        var fromSecond = Assert.Single(reports, r => r.Input!.Value.GetProperty("id").GetString() == "second");
        Assert.Contains("no", fromSecond.Input!.Value.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.All(reports, r => Assert.Equal("report-failure", r.Metadata!.Value.GetProperty("triggeredBy").GetProperty("trigger").GetString()));
    }

    [Fact]
    public async Task Triggers_Chain_AToBToC_AllComplete()
    {
        var a = new WorkflowBuilder("a").Node("Go", Nodes.Ok(new { n = 1 })).Build();
        var b = new WorkflowBuilder("b").Node("Go", (context, _) => Task.FromResult(NodeResult.Success(new { n = context.Input!.Value.GetProperty("n").GetInt32() + 1 }))).Build();
        var c = new WorkflowBuilder("c").Node("Go", (context, _) => Task.FromResult(NodeResult.Success(new { n = context.Input!.Value.GetProperty("n").GetInt32() + 1 }))).Build();
        await using var engine = await EngineAsync(a, b, c);
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "a-b", SourceType = "a", TargetType = "b", Input = new Dictionary<string, string> { ["n"] = "output.n" } });
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "b-c", SourceType = "b", TargetType = "c", Input = new Dictionary<string, string> { ["n"] = "output.n" } });
        using var timeout = Within.Seconds();

        await engine.StartAsync("a", cancellationToken: timeout.Token);
        while ((await OfTypeAsync(engine, "c")).Count == 0)
        {
            await Task.Delay(20, timeout.Token);
        }

        var last = await engine.WaitForCompletionAsync((await OfTypeAsync(engine, "c"))[0].Id, timeout.Token);
        Assert.Equal(3, last.Artifacts["Go"].GetProperty("n").GetInt32());
        Assert.Equal(2, last.Metadata!.Value.GetProperty("triggeredBy").GetProperty("depth").GetInt32());
    }

    [Fact]
    public async Task AddAsync_TriggerClosingACycle_RefusedNamingTheCycle()
    {
        await using var engine = await EngineAsync(Review(new { }), Deploy());
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "r-d", SourceType = "review", TargetType = "deploy" });

        var error = await Assert.ThrowsAsync<TriggerDefinitionException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "d-r", SourceType = "deploy", TargetType = "review" }));
        var self = await Assert.ThrowsAsync<TriggerDefinitionException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "loop", SourceType = "review", TargetType = "review" }));

        Assert.Contains("deploy → review → deploy", error.Message, StringComparison.Ordinal);
        Assert.Contains("review → review", self.Message, StringComparison.Ordinal);
        Assert.Equal(["r-d"], (await engine.Triggers.ListAsync()).Select(t => t.Name));
    }

    [Fact]
    public async Task Trigger_AllowedCycle_StopsAtTheMaximumChainDepthAndSaysSo()
    {
        var ping = new WorkflowBuilder("ping").Node("Go", Nodes.Ok()).Build();
        var builder = TestEngines.Builder(_scratch.Database).AddWorkflow(ping).Configure(o => o.MaxTriggerChainDepth = 3);
        await using var engine = await TestEngines.StartedAsync(builder);
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "again", SourceType = "ping", TargetType = "ping", AllowCycle = true });
        using var timeout = Within.Seconds();

        await engine.StartAsync("ping", cancellationToken: timeout.Token);
        WorkflowRecord? deepest = null;
        while (deepest is null)
        {
            await Task.Delay(20, timeout.Token);
            deepest = (await OfTypeAsync(engine, "ping")).FirstOrDefault(w => w.Metadata is { } m && m.GetProperty("triggeredBy").GetProperty("depth").GetInt32() == 3);
        }

        deepest = await engine.WaitForCompletionAsync(deepest.Id, timeout.Token);
        await Task.Delay(200, timeout.Token);
        Assert.Equal(4, (await OfTypeAsync(engine, "ping")).Count);
        var skipped = Assert.Single(await engine.Store.GetEventsAsync(deepest.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.TriggerSkipped);
        Assert.Contains("limit (MaxTriggerChainDepth) is 3", skipped.Payload!.Value.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddAsync_InvalidTriggers_RefusedWithTheFieldAndPosition()
    {
        await using var engine = await EngineAsync(Review(new { }), Deploy());

        var condition = await Assert.ThrowsAsync<TriggerDefinitionException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "c", SourceType = "review", TargetType = "deploy", Condition = "output.ok ==" }));
        var input = await Assert.ThrowsAsync<TriggerDefinitionException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "i", SourceType = "review", TargetType = "deploy", Input = new Dictionary<string, string> { ["pr"] = "output.(pr" } }));
        var sources = await Assert.ThrowsAsync<TriggerDefinitionException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "s", SourceType = "review", SourceWorkflowId = "x", TargetType = "deploy" }));
        var pending = await Assert.ThrowsAsync<TriggerDefinitionException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "p", SourceType = "review", TargetType = "deploy", OnStatus = WorkflowStatus.Pending }));
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "ok", SourceType = "review", TargetType = "deploy" });
        var duplicate = await Assert.ThrowsAsync<TriggerAlreadyExistsException>(() => engine.Triggers.AddAsync(new TriggerDefinition { Name = "ok", SourceType = "review", TargetType = "deploy" }));

        Assert.Contains("condition", condition.Message, StringComparison.Ordinal);
        Assert.Contains("position", condition.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("'pr'", input.Message, StringComparison.Ordinal);
        Assert.Contains("exactly one source", sources.Message, StringComparison.Ordinal);
        Assert.Contains("Pending", pending.Message, StringComparison.Ordinal);
        Assert.Contains("'ok' already exists", duplicate.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisabledTrigger_DoesNotFireUntilEnabled()
    {
        await using var engine = await EngineAsync(Review(new { pr = 1 }), Deploy());
        await engine.Triggers.AddAsync(new TriggerDefinition { Name = "t", SourceType = "review", TargetType = "deploy", Input = new Dictionary<string, string> { ["pr"] = "output.pr" } });
        await engine.Triggers.SetEnabledAsync("t", enabled: false);
        using var timeout = Within.Seconds();

        await engine.WaitForCompletionAsync((await engine.StartAsync("review", cancellationToken: timeout.Token)).Id, timeout.Token);
        var whileDisabled = (await OfTypeAsync(engine, "deploy")).Count;
        await engine.Triggers.SetEnabledAsync("t", enabled: true);
        await engine.WaitForCompletionAsync((await engine.StartAsync("review", cancellationToken: timeout.Token)).Id, timeout.Token);
        await engine.Triggers.RemoveAsync("t");

        Assert.Equal(0, whileDisabled);
        Assert.Single(await OfTypeAsync(engine, "deploy"));
        Assert.Empty(await engine.Triggers.ListAsync());
        await Assert.ThrowsAsync<TriggerNotFoundException>(() => engine.Triggers.RemoveAsync("t"));
    }
}
