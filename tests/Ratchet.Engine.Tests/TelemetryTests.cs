using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ratchet.Engine.Tests;

/// <summary>
/// Issue 3, point 9: spans from <c>ActivitySource("Ratchet")</c> and measurements from <c>Meter("Ratchet")</c>. Listeners
/// are process-wide and other tests run in parallel, so everything is filtered by this test's workflow id or type.
/// </summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Spans_WorkflowAndNodes_CarryIdTypeNodeAttemptAndOutcome()
    {
        var type = $"traced-{Guid.NewGuid():N}";
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RatchetTelemetry.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        string id;
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type))))
        {
            using var timeout = Within.Seconds();
            id = (await engine.StartAsync(type, cancellationToken: timeout.Token)).Id;
            await engine.WaitForCompletionAsync(id, timeout.Token);
        }

        // The engine was disposed, so its runner stopped and every span ended.

        var mine = stopped.Where(a => Equals(a.GetTagItem(RatchetTelemetry.Tags.WorkflowId), id)).ToArray();
        var workflowSpans = mine.Where(a => a.DisplayName == $"workflow {type}").ToArray();
        var nodeSpans = mine.Where(a => a.DisplayName.StartsWith("node ", StringComparison.Ordinal)).ToArray();
        // One run up to the retry's back-off, one after it.
        Assert.Equal(2, workflowSpans.Length);
        Assert.All(workflowSpans, a => Assert.Equal(type, a.GetTagItem(RatchetTelemetry.Tags.WorkflowType)));
        Assert.Equal("completed", (string?)workflowSpans[^1].GetTagItem(RatchetTelemetry.Tags.Outcome), ignoreCase: true);
        // The resumed run joins the trace the workflow was started in.
        Assert.Single(workflowSpans.Select(a => a.TraceId).Distinct());

        Assert.Equal(
            [("node Fetch", "Fetch", 1, "completed"), ("node Flaky", "Flaky", 1, "retry"), ("node Flaky", "Flaky", 2, "completed")],
            nodeSpans.Select(a => (a.DisplayName, (string?)a.GetTagItem(RatchetTelemetry.Tags.Node), Convert.ToInt32(a.GetTagItem(RatchetTelemetry.Tags.Attempt), System.Globalization.CultureInfo.InvariantCulture), (string?)a.GetTagItem(RatchetTelemetry.Tags.Outcome))));
        Assert.All(nodeSpans, a => Assert.Equal(type, a.GetTagItem(RatchetTelemetry.Tags.WorkflowType)));
        Assert.All(nodeSpans, a => Assert.Contains(workflowSpans, w => w.SpanId == a.ParentSpanId));
    }

    [Fact]
    public async Task Spans_WorkflowResumedByAnotherEngine_JoinTheTraceItStartedIn()
    {
        var type = $"restarted-{Guid.NewGuid():N}";
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RatchetTelemetry.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var calls = 0;
        var definition = new WorkflowBuilder(type)
            .Node("Block", async (_, cancellationToken) =>
            {
                // The first engine stops while this runs; the second finishes it.
                if (Interlocked.Increment(ref calls) == 1)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                return NodeResult.Success();
            })
            .Build();
        using var timeout = Within.Seconds();
        string id;
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition)))
        {
            id = (await engine.StartAsync(type, cancellationToken: timeout.Token)).Id;
            while (Volatile.Read(ref calls) == 0)
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        await using (var engine = await TestEngines.BuildAsync(_scratch.Database, definition))
        {
            await engine.CreateRunner(id).StartAsync(timeout.Token);
            await engine.WaitForCompletionAsync(id, timeout.Token);
        }

        var start = Assert.Single(stopped, a => a.DisplayName == $"start {type}");
        var mine = stopped.Where(a => Equals(a.GetTagItem(RatchetTelemetry.Tags.WorkflowId), id)).ToArray();
        Assert.Equal(2, mine.Count(a => a.DisplayName == $"workflow {type}"));
        var nodes = mine.Where(a => a.DisplayName == "node Block").ToArray();
        Assert.Equal(2, nodes.Length);
        Assert.Equal("completed", (string?)nodes[^1].GetTagItem(RatchetTelemetry.Tags.Outcome));
        Assert.All(mine, a => Assert.Equal(start.TraceId, a.TraceId));
        Assert.All(mine.Where(a => a.DisplayName == $"workflow {type}"), a => Assert.Equal(start.SpanId, a.ParentSpanId));
    }

    [Fact]
    public async Task Metrics_Nodes_CountedAndTimed()
    {
        var type = $"measured-{Guid.NewGuid():N}";
        var counts = new ConcurrentQueue<(string Instrument, string? Node, long Value)>();
        var durations = new ConcurrentQueue<(string? Node, double Seconds)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RatchetTelemetry.Name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (Tag(tags, RatchetTelemetry.Tags.WorkflowType) == type)
            {
                counts.Enqueue((instrument.Name, Tag(tags, RatchetTelemetry.Tags.Node), value));
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "ratchet.node.duration" && Tag(tags, RatchetTelemetry.Tags.WorkflowType) == type)
            {
                durations.Enqueue((Tag(tags, RatchetTelemetry.Tags.Node), value));
            }
        });
        listener.Start();
        await using (var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(Definition(type))))
        {
            using var timeout = Within.Seconds();
            var id = (await engine.StartAsync(type, cancellationToken: timeout.Token)).Id;
            await engine.WaitForCompletionAsync(id, timeout.Token);
        }

        long Sum(string instrument, string node) => counts.Where(c => c.Instrument == instrument && c.Node == node).Sum(c => c.Value);
        Assert.Equal((1, 2), (Sum("ratchet.node.started", "Fetch"), Sum("ratchet.node.started", "Flaky")));
        Assert.Equal((1, 1), (Sum("ratchet.node.completed", "Fetch"), Sum("ratchet.node.completed", "Flaky")));
        Assert.Equal((0, 1), (Sum("ratchet.node.failed", "Fetch"), Sum("ratchet.node.failed", "Flaky")));
        Assert.Equal((0, 1), (Sum("ratchet.node.retried", "Fetch"), Sum("ratchet.node.retried", "Flaky")));
        Assert.Equal(["Fetch", "Flaky", "Flaky"], durations.Select(d => d.Node));
        Assert.All(durations, d => Assert.InRange(d.Seconds, 0, 10));
        Assert.Contains(durations, d => d.Node == "Fetch" && d.Seconds >= 0.04);
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == name)
            {
                return tag.Value as string;
            }
        }

        return null;
    }

    private static WorkflowDefinition Definition(string type) => new WorkflowBuilder(type)
        .Node("Fetch", async (_, cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
            return NodeResult.Success();
        }).Then("Flaky")
        .Node("Flaky", Nodes.FailFirst(1)).WithRetry(Nodes.Retry(2, TimeSpan.FromMilliseconds(20)))
        .Build();
}
