using Ratchet.Queues;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>
/// Queues: a claim leases a queue's workflows only while the queue's concurrency, the worker's share, the rate window
/// and the partition's limit leave room, highest priority first; a lapsed lease frees its slot. Time is the fake clock.
/// </summary>
public abstract class QueueConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(5);

    [StoreFact]
    public async Task Record_QueueFields_RoundTripAndLeaveOthersUntouched()
    {
        var store = await CreateStoreAsync();
        var queued = await InsertAsync(store, Queued("queued", "llm", partition: "acme/widgets", priority: 7));
        var plain = await InsertAsync(store, "plain");

        Assert.Equal(("llm", "acme/widgets", 7), (queued.Queue, queued.QueuePartition, queued.QueuePriority));
        Assert.Equal((null, null, 0), (plain.Queue, plain.QueuePartition, plain.QueuePriority));
        var exported = await store.ExportAsync();
        RecordAssert.Same(queued, exported.Workflows.Single(w => w.Id == "queued"));
    }

    [StoreFact]
    public async Task ClaimDue_Concurrency_NeverLeasesMoreThanTheQueueAllowsAcrossWorkers()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", Concurrency = 2 });
        for (var i = 0; i < 5; i++)
        {
            await InsertAsync(store, Queued($"q-{i}", "llm") with { DueAt = Now.AddSeconds(-5 + i) });
        }

        await InsertAsync(store, "plain");

        var first = await ClaimAsync(store, "worker-a");
        var second = await ClaimAsync(store, "worker-b");

        Assert.Equal(["plain", "q-0", "q-1"], first.Select(w => w.Id).Order(StringComparer.Ordinal));
        Assert.Empty(second);

        // A slot is freed when its workflow ends (its lease released with it).
        await EndAsync(store, first.Single(w => w.Id == "q-0"));
        var third = await ClaimAsync(store, "worker-b");
        Assert.Equal(["q-2"], third.Select(w => w.Id));
        Assert.Empty(await ClaimAsync(store, "worker-c"));
    }

    [StoreFact]
    public async Task ClaimDue_ConcurrentClaimers_NeverExceedTheConcurrency()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", Concurrency = 2 });
        for (var i = 0; i < 12; i++)
        {
            await InsertAsync(store, Queued($"q-{i:D2}", "llm"));
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => ClaimAsync(store, $"worker-{i}"))));

        Assert.Equal(2, claims.Sum(c => c.Count));
        var leased = (await store.ExportAsync()).Workflows.Count(w => w.LeaseOwner is not null);
        Assert.Equal(2, leased);
    }

    [StoreFact]
    public async Task ClaimDue_PerWorker_LimitsEachWorkersShare()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", Concurrency = 3, PerWorker = 1 });
        for (var i = 0; i < 5; i++)
        {
            await InsertAsync(store, Queued($"q-{i}", "llm"));
        }

        Assert.Single(await ClaimAsync(store, "worker-a"));
        Assert.Empty(await ClaimAsync(store, "worker-a"));
        Assert.Single(await ClaimAsync(store, "worker-b"));
        Assert.Single(await ClaimAsync(store, "worker-c"));
        Assert.Empty(await ClaimAsync(store, "worker-d"));
    }

    [StoreFact]
    public async Task ClaimDue_RateWindow_CountsStartsUntilTheyLeaveTheWindow()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", RateLimit = 2, RatePeriod = TimeSpan.FromSeconds(1) });
        for (var i = 0; i < 5; i++)
        {
            await InsertAsync(store, Queued($"q-{i}", "llm") with { DueAt = Now.AddSeconds(-5 + i) });
        }

        var first = await ClaimAsync(store, "worker-a");
        Assert.Equal(["q-0", "q-1"], first.Select(w => w.Id));
        foreach (var workflow in first)
        {
            await EndAsync(store, workflow);
        }

        // The slots are free, but two starts are in the window.
        Clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Empty(await ClaimAsync(store, "worker-b"));

        Clock.Advance(TimeSpan.FromMilliseconds(1));
        var second = await ClaimAsync(store, "worker-b");
        Assert.Equal(["q-2", "q-3"], second.Select(w => w.Id));
        Assert.Empty(await ClaimAsync(store, "worker-c"));
    }

    [StoreFact]
    public async Task ClaimDue_Partitions_RunOneAtATimePerKey()
    {
        var store = await CreateStoreAsync();
        await InsertAsync(store, Queued("a-1", "repos", partition: "acme/a") with { DueAt = Now.AddSeconds(-3) });
        await InsertAsync(store, Queued("a-2", "repos", partition: "acme/a") with { DueAt = Now.AddSeconds(-2) });
        await InsertAsync(store, Queued("b-1", "repos", partition: "acme/b") with { DueAt = Now.AddSeconds(-1) });
        await InsertAsync(store, Queued("none", "repos"));

        // No limits were set for the queue: only the partitions hold workflows back.
        var first = await ClaimAsync(store, "worker-a");
        Assert.Equal(["a-1", "b-1", "none"], first.Select(w => w.Id).Order(StringComparer.Ordinal));
        Assert.Empty(await ClaimAsync(store, "worker-b"));

        await EndAsync(store, first.Single(w => w.Id == "a-1"));
        Assert.Equal(["a-2"], (await ClaimAsync(store, "worker-b")).Select(w => w.Id));
    }

    [StoreFact]
    public async Task ClaimDue_Priority_HigherFirstAmongDueWorkflows()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", Concurrency = 1 });
        await InsertAsync(store, Queued("low", "llm", priority: 0) with { DueAt = Now.AddSeconds(-10) });
        await InsertAsync(store, Queued("high", "llm", priority: 5) with { DueAt = Now.AddSeconds(-1) });
        await InsertAsync(store, Queued("middle", "llm", priority: 1) with { DueAt = Now.AddSeconds(-2) });
        await InsertAsync(store, Queued("later", "llm", priority: 9) with { DueAt = Now.AddMinutes(1) });

        var order = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var claimed = Assert.Single(await ClaimAsync(store, "worker-a"));
            order.Add(claimed.Id);
            await EndAsync(store, claimed);
        }

        Assert.Equal(["high", "middle", "low"], order);
    }

    [StoreFact]
    public async Task ClaimDue_LapsedLease_FreesItsSlot()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", Concurrency = 1 });
        await InsertAsync(store, Queued("q-0", "llm") with { DueAt = Now.AddSeconds(-1) });
        await InsertAsync(store, Queued("q-1", "llm"));

        Assert.Equal(["q-0"], (await ClaimAsync(store, "worker-a")).Select(w => w.Id));
        Clock.Advance(LeaseDuration - TimeSpan.FromSeconds(1));
        Assert.Empty(await ClaimAsync(store, "worker-b"));

        // worker-a died: its lease lapses, and with it the slot; its workflow is due again and comes first.
        Clock.Advance(TimeSpan.FromSeconds(1));
        var taken = Assert.Single(await ClaimAsync(store, "worker-b"));
        Assert.Equal("q-0", taken.Id);
        Assert.Empty(await ClaimAsync(store, "worker-c"));
    }

    [StoreFact]
    public async Task ClaimWorkflow_QueueFull_IsRefusedUntilASlotFrees()
    {
        var store = await CreateStoreAsync();
        await SetQueueAsync(store, new QueueDefinition { Name = "llm", Concurrency = 1 });
        await InsertAsync(store, Queued("q-0", "llm"));
        await InsertAsync(store, Queued("q-1", "llm"));

        var held = await store.ClaimWorkflowAsync("q-0", "worker-a", LeaseDuration);
        Assert.NotNull(held);
        Assert.Null(await store.ClaimWorkflowAsync("q-1", "worker-b", LeaseDuration));

        // The holder claiming again renews its lease; a slot it holds is not counted against it.
        Assert.NotNull(await store.ClaimWorkflowAsync("q-0", "worker-a", LeaseDuration));
        Assert.True(await store.ReleaseLeaseAsync("q-0", "worker-a"));
        var taken = await store.ClaimWorkflowAsync("q-1", "worker-b", LeaseDuration);
        Assert.Equal("worker-b", taken?.LeaseOwner);
    }

    [StoreFact]
    public async Task Catalog_SetListRemove_AndStatusCountsSlots()
    {
        var store = await CreateStoreAsync();
        var catalog = new QueueCatalog(store, Clock);
        await catalog.SetAsync(new QueueDefinition { Name = "llm", Concurrency = 2, PerWorker = 1, RateLimit = 5, RatePeriod = TimeSpan.FromSeconds(1) });
        await InsertAsync(store, Queued("q-0", "llm"));
        await InsertAsync(store, Queued("q-1", "llm"));
        await InsertAsync(store, Queued("r-0", "repos", partition: "acme/a"));
        await ClaimAsync(store, "worker-a");

        var llm = await catalog.FindAsync("llm");
        Assert.Equal((2, 1, 5, TimeSpan.FromSeconds(1), "5/1s"), (llm!.Concurrency, llm.PerWorker, llm.RateLimit, llm.RatePeriod, llm.RateText));
        var status = await catalog.StatusAsync();
        Assert.Equal([("llm", 1, 1, true), ("repos", 1, 0, false)], status.Select(s => (s.Name, s.Running, s.Waiting, s.Definition is not null)));
        Assert.Equal(2, (await catalog.WorkflowsAsync("llm")).Count);

        await catalog.RemoveAsync("llm");
        Assert.Null(await catalog.FindAsync("llm"));
        await Assert.ThrowsAsync<QueueNotFoundException>(() => catalog.RemoveAsync("llm"));
        await Assert.ThrowsAsync<QueueDefinitionException>(() => catalog.SetAsync(new QueueDefinition { Name = "bad", Concurrency = 0 }));
    }

    /// <summary>A Pending workflow in <paramref name="queue"/>, due now.</summary>
    protected WorkflowRecord Queued(string id, string queue, string? partition = null, int priority = 0) =>
        NewWorkflow(id) with { Queue = queue, QueuePartition = partition, QueuePriority = priority };

    private Task SetQueueAsync(IRatchetStore store, QueueDefinition queue) => new QueueCatalog(store, Clock).SetAsync(queue);

    private static Task<IReadOnlyList<WorkflowRecord>> ClaimAsync(IRatchetStore store, string owner) =>
        store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = owner, Duration = LeaseDuration, MaxCount = 10 });

    /// <summary>Runs a claimed workflow to its end, releasing its lease as the runner's last commit does.</summary>
    private async Task EndAsync(IRatchetStore store, WorkflowRecord claimed)
    {
        var running = await UpdateAsync(store, claimed.TransitionTo(WorkflowStatus.Running, Now));
        await UpdateAsync(store, running.TransitionTo(WorkflowStatus.Completed, Now), LeaseAction.Release);
    }
}
