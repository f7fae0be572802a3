using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Engine.Tests;

/// <summary>Issue 11, point 8: one depth limit for JSON values, checked where they enter, so a store never holds what it cannot export.</summary>
public sealed class JsonDepthTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private static JsonElement Nested(int depth)
    {
        // Parsed with a higher limit than Ratchet's, as a node of a library user's might.
        using var document = JsonDocument.Parse(new string('[', depth) + new string(']', depth), new JsonDocumentOptions { MaxDepth = 1000 });
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Run_NodeOutputDeeperThanTheLimit_FailsTheNodeSayingSoAndTheStoreStillExports()
    {
        var definition = new WorkflowBuilder("deep-output")
            .Node("Shallow", Nodes.Ok(Nested(64))).Then("Deep")
            .Node("Deep", (_, _) => Task.FromResult(new NodeResult { Output = Nested(100) }))
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();

        var started = await engine.StartAsync("deep-output", cancellationToken: timeout.Token);
        var failed = await engine.WaitForCompletionAsync(started.Id, timeout.Token);
        var snapshot = await engine.Store.ExportAsync(timeout.Token);
        using var exported = new MemoryStream();
        await RatchetJson.WriteSnapshotAsync(exported, snapshot, timeout.Token);

        Assert.Equal((WorkflowStatus.Failed, "Deep", nameof(JsonTooDeepException)), (failed.Status, failed.Error?.Node, failed.Error?.Type));
        Assert.StartsWith("The output of node 'Deep' is nested deeper than 64 levels", failed.Error?.Message, StringComparison.Ordinal);
        Assert.False(RatchetJson.IsTooDeep(failed.Artifacts["Shallow"]));
        Assert.DoesNotContain("Deep", failed.Artifacts.Keys);
        Assert.True(exported.Length > 0);
    }

    [Fact]
    public async Task StartAndSignal_ValuesDeeperThanTheLimit_AreRefusedAndNothingIsWritten()
    {
        var definition = new WorkflowBuilder("deep-signal").WaitForSignal("Wait", "go").Then("After").Node("After", Nodes.Ok()).Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));
        using var timeout = Within.Seconds();

        var input = await Assert.ThrowsAsync<JsonTooDeepException>(() => engine.StartAsync("deep-signal", new Dictionary<string, JsonElement> { ["data"] = Nested(65) }, cancellationToken: timeout.Token));
        var started = await engine.StartAsync("deep-signal", new Dictionary<string, JsonElement> { ["data"] = Nested(64) }, cancellationToken: timeout.Token);
        var waiting = await engine.WaitForAsync(started.Id, w => w.Status == WorkflowStatus.Waiting, timeout.Token);
        var payload = await Assert.ThrowsAsync<JsonTooDeepException>(() => engine.SignalAsync(started.Id, "go", Nested(65), timeout.Token));
        var still = await engine.Store.GetRequiredWorkflowAsync(started.Id, timeout.Token);
        await engine.SignalAsync(started.Id, "go", Nested(64), timeout.Token);
        var done = await engine.WaitForCompletionAsync(started.Id, timeout.Token);

        Assert.Equal("Input 'data'", input.Subject);
        Assert.Equal("The payload of signal 'go'", payload.Subject);
        Assert.Single((await engine.Store.ListWorkflowsAsync(new WorkflowQuery(), timeout.Token)).Items);
        Assert.Equal((WorkflowStatus.Waiting, waiting.Version), (still.Status, still.Version));
        Assert.Equal(WorkflowStatus.Completed, done.Status);
    }
}
