using Ratchet.Engine;
using Ratchet.Queues;

namespace Ratchet.Engine.Tests;

/// <summary>A workflow of a queue started while a runner runs is not handed to it in memory: the store's claim admits it.</summary>
public sealed class QueueTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task StartAsync_QueueOfOne_RunsItsWorkflowsOneAtATimeThroughTheClaim()
    {
        var gate = new SemaphoreSlim(0);
        var entered = 0;
        var running = 0;
        var most = 0;
        var definition = new WorkflowBuilder("queued")
            .Queue(new WorkflowQueue { Name = "llm", Limits = new QueueDefinition { Name = "llm", Concurrency = 1 } })
            .Node("call", async (_, cancellationToken) =>
            {
                Interlocked.Increment(ref entered);
                var now = Interlocked.Increment(ref running);
                InterlockedMax(ref most, now);
                await gate.WaitAsync(cancellationToken);
                Interlocked.Decrement(ref running);
                return NodeResult.Success();
            })
            .Build();
        await using var engine = await TestEngines.StartedAsync(TestEngines.Builder(_scratch.Database).AddWorkflow(definition));

        var started = new List<WorkflowRecord>();
        for (var i = 0; i < 3; i++)
        {
            started.Add(await engine.StartAsync("queued", options: new StartOptions { Id = $"q-{i}" }));
        }

        // Created unleased and waiting for the claim, with the queue's limits stored on the first start.
        Assert.All(started, w => Assert.Equal((WorkflowStatus.Pending, null, "llm"), (w.Status, w.LeaseOwner, w.Queue)));
        Assert.Equal(1, (await new QueueCatalog(engine.Store).FindAsync("llm"))?.Concurrency);

        Assert.True(await Until(() => Volatile.Read(ref entered) == 1));
        var leased = 0;
        foreach (var workflow in started)
        {
            leased += (await engine.Store.GetRequiredWorkflowAsync(workflow.Id)).LeaseOwner is null ? 0 : 1;
        }

        Assert.Equal(1, leased);
        gate.Release(3);
        foreach (var workflow in started)
        {
            Assert.Equal(WorkflowStatus.Completed, (await engine.WaitForCompletionAsync(workflow.Id).WaitAsync(TimeSpan.FromSeconds(30))).Status);
        }

        Assert.Equal(3, entered);
        Assert.Equal(1, most);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static async Task<bool> Until(Func<bool> condition)
    {
        for (var i = 0; i < 600 && !condition(); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        return condition();
    }
}
