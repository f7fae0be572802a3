using System.Collections.Concurrent;
using System.Globalization;
using Ratchet.Storage;
using Xunit;

namespace Ratchet.Conformance;

/// <summary>Many writers at once: no lost update, no duplicate, no shared lease, no gap in a sequence.</summary>
public abstract class ConcurrencyConformanceTests<TFactory> : StoreConformanceTests<TFactory>
    where TFactory : StoreFactory, new()
{
    /// <summary>A deadlocked store fails the test instead of hanging the run.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [StoreFact]
    public async Task TransactionAsync_EightWritersThousandChangeSetsEach_NoLostUpdate()
    {
        const int Writers = 8;
        const int ChangeSetsPerWriter = 1_000;
        var store = await CreateStoreAsync();
        for (var w = 0; w < Writers; w++)
        {
            await InsertAsync(store, $"writer-{w}");
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var committed = new int[Writers];
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            await gate.Task;
            var workflowId = $"writer-{w}";
            for (var i = 0; i < ChangeSetsPerWriter; i++)
            {
                await store.TransactionAsync(async (tx, ct) =>
                {
                    var counter = await tx.GetValueAsync("concurrency", "counter", ct);
                    var next = (counter?.Value.GetInt64() ?? 0) + 1;
                    var text = next.ToString(CultureInfo.InvariantCulture);
                    tx.SaveValue("concurrency", "counter", Json(text))
                        .AppendEvent(NewEvent(workflowId, "increment", Json(text)));
                }, new TransactionOptions { MaxAttempts = 1_000_000 });
                committed[w]++;
            }
        })).ToArray();

        gate.SetResult();
        await Task.WhenAll(writers).WaitAsync(Deadline);

        Assert.All(committed, count => Assert.Equal(ChangeSetsPerWriter, count));
        var counterEntry = await store.GetValueAsync("concurrency", "counter");
        Assert.Equal(Writers * ChangeSetsPerWriter, counterEntry?.Value.GetInt64());
        Assert.Equal(Writers * ChangeSetsPerWriter, counterEntry?.Version);
        var seen = new List<long>();
        for (var w = 0; w < Writers; w++)
        {
            var events = await store.GetEventsAsync($"writer-{w}");
            Assert.Equal(Enumerable.Range(1, ChangeSetsPerWriter).Select(i => (long)i), events.Select(e => e.Sequence));
            var values = events.Select(e => e.Payload!.Value.GetInt64()).ToList();
            Assert.Equal(values.Order(), values);
            seen.AddRange(values);
        }

        // Every increment saw a distinct counter value: no two transactions committed on the same read.
        Assert.Equal(Enumerable.Range(1, Writers * ChangeSetsPerWriter).Select(i => (long)i), seen.Order());
    }

    [StoreFact]
    public async Task CommitAsync_ConcurrentAppendsToOneWorkflow_SequencesHaveNoGapOrDuplicate()
    {
        const int Writers = 8;
        const int ChangeSetsPerWriter = 50;
        var store = await CreateStoreAsync();
        await InsertAsync(store, "shared");

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            await gate.Task;
            for (var i = 0; i < ChangeSetsPerWriter; i++)
            {
                await store.CommitAsync(new ChangeSet()
                    .AppendEvent(NewEvent("shared", $"w{w}-{i}-a"))
                    .AppendEvent(NewEvent("shared", $"w{w}-{i}-b"))
                    .AppendStep(NewStep("shared", $"w{w}-{i}")));
            }
        })).ToArray();

        gate.SetResult();
        await Task.WhenAll(writers).WaitAsync(Deadline);

        var events = await store.GetEventsAsync("shared");
        var steps = await store.GetStepsAsync("shared");
        Assert.Equal(Enumerable.Range(1, Writers * ChangeSetsPerWriter * 2).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(1, Writers * ChangeSetsPerWriter).Select(i => (long)i), steps.Select(s => s.Sequence));
        for (var k = 0; k < events.Count; k += 2)
        {
            // A change set's events are consecutive: nothing else interleaves within one commit.
            Assert.Equal(events[k].Type[..^1] + "b", events[k + 1].Type);
        }

        for (var w = 0; w < Writers; w++)
        {
            var mine = steps.Where(s => s.Node.StartsWith($"w{w}-", StringComparison.Ordinal)).Select(s => s.Node).ToList();
            Assert.Equal(Enumerable.Range(0, ChangeSetsPerWriter).Select(i => $"w{w}-{i}"), mine);
        }
    }

    [StoreFact]
    public async Task CommitAsync_ConcurrentAppendsMixedWithRefusedChangeSets_RefusedLeaveNoTrace()
    {
        const int Writers = 8;
        const int ChangeSetsPerWriter = 40;
        var store = await CreateStoreAsync();
        await InsertAsync(store, "shared");

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var refusals = new int[Writers];
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            await gate.Task;
            for (var i = 0; i < ChangeSetsPerWriter; i++)
            {
                var refused = (i + w) % 2 == 1;
                var changes = new ChangeSet()
                    .AppendEvent(NewEvent("shared", refused ? "refused" : $"w{w}-{i}"))
                    .AppendStep(NewStep("shared", refused ? "refused" : $"w{w}-{i}"))
                    .SaveValue("mixed", $"w{w}-{i}", Json("1"));
                if (refused)
                {
                    // Fails its check (the workflow stays at version 1), possibly in the same batch as others' commits.
                    changes.ExpectWorkflowVersion("shared", 7);
                    try
                    {
                        await store.CommitAsync(changes);
                    }
                    catch (WorkflowConcurrencyException)
                    {
                        refusals[w]++;
                    }
                }
                else
                {
                    await store.CommitAsync(changes);
                }
            }
        })).ToArray();

        gate.SetResult();
        await Task.WhenAll(writers).WaitAsync(Deadline);

        const int Accepted = Writers * ChangeSetsPerWriter / 2;
        Assert.All(refusals, count => Assert.Equal(ChangeSetsPerWriter / 2, count));
        var events = await store.GetEventsAsync("shared");
        var steps = await store.GetStepsAsync("shared");
        Assert.Equal(Enumerable.Range(1, Accepted).Select(i => (long)i), events.Select(e => e.Sequence));
        Assert.Equal(Enumerable.Range(1, Accepted).Select(i => (long)i), steps.Select(e => e.Sequence));
        Assert.DoesNotContain(events, e => e.Type == "refused");
        Assert.DoesNotContain(steps, e => e.Node == "refused");
        Assert.Equal(Accepted, (await store.ListValuesAsync("mixed")).Count);
        Assert.Equal(1, (await store.GetRequiredWorkflowAsync("shared")).Version);
    }

    [StoreFact]
    public async Task CreateAsync_ConcurrentCreatesWithSameCallerId_ExactlyOneWorkflow()
    {
        const int Rounds = 10;
        const int Callers = 16;
        var store = await CreateStoreAsync();

        for (var round = 0; round < Rounds; round++)
        {
            var id = $"issue-{round}";
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var callers = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
            {
                await gate.Task;
                return await new WorkflowCreator(store, Clock).CreateAsync(new NewWorkflow
                {
                    Type = "issue-implementation",
                    Id = id,
                    Input = Json(i.ToString(CultureInfo.InvariantCulture)),
                });
            })).ToArray();
            gate.SetResult();
            var results = await Task.WhenAll(callers).WaitAsync(Deadline);

            var winner = Assert.Single(results, r => r.Created);
            var stored = await store.GetRequiredWorkflowAsync(id);
            Assert.Equal(1, stored.Version);
            RecordAssert.JsonEqual(winner.Workflow.Input, stored.Input);
            Assert.All(results, r => RecordAssert.JsonEqual(stored.Input, r.Workflow.Input));
            Assert.Equal(AuditEventTypes.Created, Assert.Single(await store.GetEventsAsync(id)).Type);
        }

        Assert.Equal(Rounds, (await store.ListWorkflowsAsync(new WorkflowQuery { IncludeArchived = true })).Items.Count);
    }

    [StoreFact]
    public async Task CommitAsync_ConcurrentDuplicateCreates_RefusalOnlyOnceTheWinnerIsVisible()
    {
        const int Rounds = 10;
        const int Callers = 16;
        var store = await CreateStoreAsync();

        for (var round = 0; round < Rounds; round++)
        {
            var id = $"wf-{round}";
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var callers = Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
            {
                await gate.Task;
                try
                {
                    await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow(id) with { CurrentNode = $"caller-{i}" }));
                    return (Created: true, SeenAfterRefusal: (WorkflowRecord?)null);
                }
                catch (WorkflowAlreadyExistsException)
                {
                    // Told the id is taken, the caller must be able to read what took it.
                    return (Created: false, SeenAfterRefusal: await store.GetWorkflowAsync(id));
                }
            })).ToArray();
            gate.SetResult();
            var outcomes = await Task.WhenAll(callers).WaitAsync(Deadline);

            Assert.Single(outcomes, o => o.Created);
            Assert.All(outcomes.Where(o => !o.Created), o => Assert.NotNull(o.SeenAfterRefusal));
        }
    }

    [StoreFact]
    public async Task CommitAsync_ConcurrentUpdatesAtSameVersion_ExactlyOneWins()
    {
        const int Writers = 16;
        var store = await CreateStoreAsync();
        var record = await InsertAsync(store, "contended");

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            await gate.Task;
            try
            {
                await store.CommitAsync(new ChangeSet()
                    .UpdateWorkflow(record with { CurrentNode = $"writer-{i}" })
                    .AppendEvent(NewEvent("contended", $"writer-{i}"))
                    .SaveValue("contended", $"writer-{i}", Json("1")));
                return (Writer: i, Error: (WorkflowConcurrencyException?)null);
            }
            catch (WorkflowConcurrencyException error)
            {
                // Told another version exists, the writer must be able to read it.
                var current = await store.GetRequiredWorkflowAsync("contended");
                Assert.True(current.Version >= error.ActualVersion, $"Refused with version {error.ActualVersion}, then read version {current.Version}.");
                return (Writer: i, Error: error);
            }
        })).ToArray();
        gate.SetResult();
        var outcomes = await Task.WhenAll(writers).WaitAsync(Deadline);

        var winner = Assert.Single(outcomes, o => o.Error is null).Writer;
        Assert.All(outcomes.Where(o => o.Error is not null), o => Assert.Equal((1L, 2L), (o.Error!.ExpectedVersion, o.Error.ActualVersion)));
        var stored = await store.GetRequiredWorkflowAsync("contended");
        Assert.Equal(2, stored.Version);
        Assert.Equal($"writer-{winner}", stored.CurrentNode);
        Assert.Equal($"writer-{winner}", Assert.Single(await store.GetEventsAsync("contended")).Type);
        Assert.Equal($"writer-{winner}", Assert.Single(await store.ListValuesAsync("contended")).Key);
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_ConcurrentOwners_NeverShareAWorkflow()
    {
        const int Workflows = 40;
        const int Owners = 8;
        var store = await CreateStoreAsync();
        var changes = new ChangeSet();
        for (var i = 0; i < Workflows; i++)
        {
            changes.CreateWorkflow(NewWorkflow($"wf-{i:D2}"));
        }

        await store.CommitAsync(changes);

        var claims = new ConcurrentBag<(string Owner, WorkflowRecord Workflow)>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var owners = Enumerable.Range(0, Owners).Select(o => Task.Run(async () =>
        {
            await gate.Task;
            var owner = $"owner-{o}";
            while (true)
            {
                var claimed = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = owner, Duration = TimeSpan.FromMinutes(5), MaxCount = 3 });
                if (claimed.Count == 0)
                {
                    return;
                }

                foreach (var workflow in claimed)
                {
                    claims.Add((owner, workflow));
                }
            }
        })).ToArray();
        gate.SetResult();
        await Task.WhenAll(owners).WaitAsync(Deadline);

        Assert.Equal(Workflows, claims.Count);
        Assert.Equal(Workflows, claims.Select(c => c.Workflow.Id).Distinct().Count());
        foreach (var (owner, workflow) in claims)
        {
            var stored = await store.GetRequiredWorkflowAsync(workflow.Id);
            Assert.Equal(owner, stored.LeaseOwner);
            Assert.Equal(owner, workflow.LeaseOwner);
            Assert.Equal(2, stored.Version);
        }
    }
}
