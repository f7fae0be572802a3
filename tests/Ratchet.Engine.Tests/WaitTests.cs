using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Engine;
using Ratchet.Serialization;

namespace Ratchet.Engine.Tests;

/// <summary>Durable timers, buffered signals, signal timeouts and approvals with a payload, on a fake clock.</summary>
public sealed class WaitTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Delay_RunnerRestartedWhileItSleeps_FiresOnceAfterTheClockMoves()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var woke = 0;
        var definition = new WorkflowBuilder("sleep-restart")
            .Delay("Sleep", TimeSpan.FromMinutes(10)).Then("Wake")
            .Node("Wake", (_, _) => { Interlocked.Increment(ref woke); return Task.FromResult(NodeResult.Success()); })
            .Build();
        using var timeout = Within.Seconds(20);
        string id;
        await using (var first = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition)))
        {
            id = (await first.StartAsync("sleep-restart", cancellationToken: timeout.Token)).Id;
            var sleeping = await first.WaitForAsync(id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
            Assert.Equal((WaitReason.Timer, TestClock.Start + TimeSpan.FromMinutes(10), (string?)null), (sleeping.WaitReason, sleeping.DueAt, sleeping.LeaseOwner));
            clock.Advance(TimeSpan.FromMinutes(9));
            Assert.Equal(WorkflowStatus.Waiting, (await first.Store.GetRequiredWorkflowAsync(id, timeout.Token)).Status);
        }

        // A new process: nothing of the first runner is left but the stored due time.
        await using var second = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        clock.Advance(TimeSpan.FromMinutes(1));
        var done = await second.WaitForCompletionAsync(id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal(1, woke);
        Assert.Equal(["Sleep", "Wake"], (await second.Store.GetStepsAsync(id, timeout.Token)).Select(s => s.Node));
    }

    [Fact]
    public async Task DelayUntil_TimeFromTheInput_SleepsUntilThenAndATimeThatCannotBeWorkedOutFailsTheNode()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var definition = new WorkflowBuilder("until")
            .DelayUntil("Until", "{{ inputs.at }}", w => DateTimeOffset.Parse(w.Input!.Value.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture))
            .Then("After")
            .Node("After", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        using var timeout = Within.Seconds(20);
        var at = TestClock.Start + TimeSpan.FromHours(3);

        var started = await engine.StartAsync("until", new { at = at.ToString("O") }, cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        Assert.Equal(at, waiting.DueAt);
        clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(started.Id, timeout.Token)).Status);

        var bad = await engine.StartAsync("until", new { at = "not a time" }, cancellationToken: timeout.Token);
        var failed = await engine.WaitForCompletionAsync(bad.Id, timeout.Token);
        Assert.Equal((WorkflowStatus.Failed, "invalid-time"), (failed.Status, failed.Error!.Type));
    }

    [Fact]
    public async Task WaitForSignal_TimeoutWithTransition_TakesTheTimeoutOutcome()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var definition = new WorkflowBuilder("ci-or-give-up")
            .WaitForSignal("Ci", "ci-finished", TimeSpan.FromHours(2)).Then("Merge").On(WorkflowDefinition.TimedOut, "GiveUp")
            .Node("Merge", Nodes.Ok()).Then(WorkflowDefinition.End)
            .Node("GiveUp", Nodes.Ok())
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        using var timeout = Within.Seconds(20);

        var started = await engine.StartAsync("ci-or-give-up", cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        Assert.Equal((WaitReason.Signal, "ci-finished", TestClock.Start + TimeSpan.FromHours(2)), (waiting.WaitReason, waiting.WaitDetail, waiting.DueAt));
        clock.Advance(TimeSpan.FromHours(2));
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Completed, "GiveUp"), (done.Status, done.CurrentNode));
        var completed = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e is { Type: AuditEventTypes.NodeCompleted, Node: "Ci" });
        Assert.Equal("timeout", completed.Payload!.Value.GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task WaitForSignal_TimeoutWithoutTransition_FailsWithSignalTimeout()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var definition = new WorkflowBuilder("ci-strict").WaitForSignal("Ci", "ci-finished", TimeSpan.FromMinutes(30)).Then("Merge").Node("Merge", Nodes.Ok()).Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database, clock).AddWorkflow(definition));
        using var timeout = Within.Seconds(20);

        var started = await engine.StartAsync("ci-strict", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        clock.Advance(TimeSpan.FromMinutes(29));
        Assert.Equal(WorkflowStatus.Waiting, (await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token)).Status);
        clock.Advance(TimeSpan.FromMinutes(1));
        var failed = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal((WorkflowStatus.Failed, "signal-timeout", "Ci"), (failed.Status, failed.Error!.Type, failed.Error.Node));
        Assert.Contains("ci-finished", failed.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SendSignalAsync_BeforeTheWorkflowWaits_BufferedAndDeliveredInOrderExactlyOnce()
    {
        var clock = new FakeTimeProvider(TestClock.Start);
        var seen = new List<int>();
        var definition = new WorkflowBuilder("two-waits")
            .Node("Prepare", Nodes.Ok()).Then("First")
            .WaitForSignal("First", "ci").Then("Second")
            .WaitForSignal("Second", "ci").Then("Record")
            .Node("Record", (context, _) =>
            {
                seen.Add(context.Get<JsonElement>("First").GetProperty("run").GetInt32());
                seen.Add(context.Get<JsonElement>("Second").GetProperty("run").GetInt32());
                return Task.FromResult(NodeResult.Success());
            })
            .Build();
        await using var engine = await TestEngines.BuildAsync(_scratch.Database, clock, definition);
        using var timeout = Within.Seconds(20);
        var started = await engine.StartAsync("two-waits", cancellationToken: timeout.Token);

        // Pending, no runner: both are buffered, an unrelated one too.
        var one = await engine.SendSignalAsync(started.Id, "ci", RatchetJson.Parse("""{"run":1}"""), timeout.Token);
        await engine.SendSignalAsync(started.Id, "deploy", null, timeout.Token);
        await engine.SendSignalAsync(started.Id, "ci", RatchetJson.Parse("""{"run":2}"""), timeout.Token);
        Assert.True(one.Buffered);
        Assert.Equal(["ci", "deploy", "ci"], (await engine.Store.GetPendingSignalsAsync(started.Id, timeout.Token)).Select(s => s.Name));

        await engine.CreateRunner().StartAsync(timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal(WorkflowStatus.Completed, done.Status);
        Assert.Equal([1, 2], seen);
        Assert.Equal(["deploy"], (await engine.Store.GetPendingSignalsAsync(started.Id, timeout.Token)).Select(s => s.Name));
        var events = await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token);
        Assert.Equal(3, events.Count(e => e.Type == AuditEventTypes.SignalBuffered));
        Assert.Equal(["First", "Second"], events.Where(e => e.Type == AuditEventTypes.Signal).Select(e => e.Node));
        // The workflow never parked: each wait took its buffered signal at once.
        Assert.DoesNotContain(events, e => e.Type == AuditEventTypes.Waiting);
        await Assert.ThrowsAsync<InvalidTransitionException>(() => engine.SendSignalAsync(started.Id, "ci", null, timeout.Token));
    }

    [Fact]
    public async Task SendSignalAsync_WhileWaitingForIt_DeliveredAtOnceNotBuffered()
    {
        var definition = new WorkflowBuilder("waits").WaitForSignal("Wait", "go").Then("After").Node("After", Nodes.Ok()).Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds(20);
        var started = await engine.StartAsync("waits", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        var delivery = await engine.SendSignalAsync(started.Id, "go", "now", timeout.Token);

        Assert.False(delivery.Buffered);
        Assert.Equal("now", (await engine.WaitForCompletionAsync(started.Id, timeout.Token)).Artifacts["Wait"].GetString());
        Assert.Empty(await engine.Store.GetPendingSignalsAsync(started.Id, timeout.Token));
    }

    [Fact]
    public async Task ApproveAsync_WithData_TheNodesOutputAndTheAuditHoldIt()
    {
        var definition = new WorkflowBuilder("approve-plan").Approval("Review", "Plan ok?").Then("Build").Node("Build", Nodes.Ok()).Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds(20);
        var started = await engine.StartAsync("approve-plan", cancellationToken: timeout.Token);
        await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);

        await engine.ApproveAsync(started.Id, "ada", "trimmed", RatchetJson.Parse("""{"files":["a.cs"]}"""), timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        var output = done.Artifacts["Review"];
        Assert.Equal((true, "ada", "a.cs"), (output.GetProperty("approved").GetBoolean(), output.GetProperty("by").GetString(), output.GetProperty("data").GetProperty("files")[0].GetString()));
        var approved = Assert.Single(await engine.Store.GetEventsAsync(started.Id, cancellationToken: timeout.Token), e => e.Type == AuditEventTypes.Approved);
        Assert.Equal("a.cs", approved.Payload!.Value.GetProperty("data").GetProperty("files")[0].GetString());
    }
}
