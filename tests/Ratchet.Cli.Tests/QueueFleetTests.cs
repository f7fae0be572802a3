using Ratchet.Conformance;
using Ratchet.Engine;
using Ratchet.Yaml;

namespace Ratchet.Cli.Tests;

/// <summary>
/// Three <c>ratchet worker</c> processes share one store and a queue of concurrency 2 and rate 5 per second; 20
/// workflows of the queue are due at once. Measured after the run from what the store recorded (each node's
/// <c>node-started</c> event and its step's finish), never more than 2 run at once and never more than 5 start within
/// a second. Each backend shared between processes runs it through a subclass.
/// </summary>
public abstract class QueueFleetTests : IAsyncLifetime
{
    private const int WorkflowCount = 20;
    private const int Concurrency = 2;
    private const int Rate = 5;

    /// <summary>
    /// The store limits claims (5 in any second); a node starts a moment after its claim, once the worker has handed it
    /// to a slot and committed the start. Six consecutive starts must therefore span a second less that hand-over.
    /// </summary>
    private static readonly TimeSpan HandOver = TimeSpan.FromMilliseconds(200);

    private CliSandbox? _sandbox;
    private IRatchetStore? _store;

    /// <summary>A new, empty store: its URI for the CLI and an open handle for the test to look into.</summary>
    protected abstract Task<(string Uri, IRatchetStore Store)> CreateStoreAsync();

    /// <summary>Deletes what <see cref="CreateStoreAsync"/> made (the handle is already closed).</summary>
    protected abstract Task DropStoreAsync(string uri);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        if (_sandbox is not null)
        {
            await DropStoreAsync(_sandbox.Store);
            _sandbox.Dispose();
        }
    }

    [StoreFact]
    public async Task ThreeWorkers_QueueOfTwoAtFivePerSecond_NeverExceedsEitherLimit()
    {
        var (uri, store) = await CreateStoreAsync();
        _store = store;
        _sandbox = new CliSandbox(uri);
        var ids = await StartWorkflowsAsync(_sandbox, store);

        var listed = await _sandbox.RunAsync("queue", "list");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains(listed.StdoutLines, l => l.StartsWith("llm\t0\t20\t2\t-\t5/1s", StringComparison.Ordinal));

        var workers = Enumerable.Range(0, 3).Select(_ => _sandbox.Start(["worker", "--concurrency", "4", "--lease", "5s"])).ToList();
        try
        {
            var allCompleted = await Eventually.TrueAsync(async () => (await ReadAsync(store, ids)).All(w => w.Status == WorkflowStatus.Completed), seconds: 120);
            Assert.True(allCompleted,
                $"not every workflow completed: {string.Join(", ", (await ReadAsync(store, ids)).Select(w => $"{w.Id}={w.Status}"))}\n--- worker 1\n{workers[0].Stderr}");
        }
        finally
        {
            foreach (var worker in workers.Where(w => !w.HasExited))
            {
                await worker.SignalAsync("INT");
            }

            foreach (var worker in workers)
            {
                await worker.WaitAsync(TimeSpan.FromSeconds(30));
                worker.Dispose();
            }
        }

        var runs = new List<(DateTimeOffset Start, DateTimeOffset End, string Id)>();
        foreach (var id in ids)
        {
            var started = Assert.Single(await store.GetEventsAsync(id), e => e.Type == AuditEventTypes.NodeStarted);
            var step = Assert.Single(await store.GetStepsAsync(id));
            runs.Add((started.At, step.FinishedAt, id));
        }

        // Concurrency: at no moment more than two nodes between their start and their end.
        var edges = runs.SelectMany(r => new[] { (At: r.Start, Delta: 1), (At: r.End, Delta: -1) }).OrderBy(e => e.At).ThenBy(e => e.Delta).ToList();
        var running = 0;
        var most = 0;
        foreach (var edge in edges)
        {
            running += edge.Delta;
            most = Math.Max(most, running);
        }

        Assert.True(most <= Concurrency, $"{most} nodes ran at once; the queue allows {Concurrency}.\n{Describe(runs)}");
        Assert.Equal(Concurrency, most);

        // Rate: any six consecutive starts span at least a second (less the hand-over from claim to start).
        var starts = runs.Select(r => r.Start).Order().ToList();
        for (var i = 0; i + Rate < starts.Count; i++)
        {
            var span = starts[i + Rate] - starts[i];
            Assert.True(span >= TimeSpan.FromSeconds(1) - HandOver,
                $"{Rate + 1} nodes started within {span.TotalMilliseconds:0} ms (from {starts[i]:HH:mm:ss.fff}); the queue allows {Rate} per second.\n{Describe(runs)}");
        }

        // Enough work for the rate to bite: twenty starts at five a second take three seconds at least.
        Assert.True(starts[^1] - starts[0] >= TimeSpan.FromSeconds(3) - HandOver, Describe(runs));
    }

    /// <summary>Records the workflow file's definition and starts the workflows (all due at once), in one process.</summary>
    private static async Task<IReadOnlyList<string>> StartWorkflowsAsync(CliSandbox sandbox, IRatchetStore store)
    {
        var file = sandbox.Write("llm.yaml", """
            name: llm-call
            inputs:
              repo: { type: string }
            queue: { name: llm, concurrency: 2, rate: 5/1s }
            nodes:
              call:
                run: sleep 0.3 && echo called
            """);
        var shell = new ShellOptions { RunsDirectory = sandbox.File("runs"), WorkspacesDirectory = sandbox.File("workspaces"), Store = store };
        var compiled = WorkflowCompiler.Load(file, shell);
        await DefinitionCatalog.SaveAsync(store, compiled);
        var builder = new RatchetBuilder().UseStore(store);
        foreach (var workflow in compiled)
        {
            builder.AddWorkflow(workflow.Definition);
        }

        await using var engine = await builder.BuildAsync();
        var ids = new List<string>();
        for (var index = 0; index < WorkflowCount; index++)
        {
            var started = await engine.StartAsync("llm-call", new Dictionary<string, string> { ["repo"] = $"acme/r{index}" }, new StartOptions { Id = $"llm-{index:D2}" });
            Assert.Equal("llm", started.Queue);
            ids.Add(started.Id);
        }

        return ids;
    }

    private static string Describe(IEnumerable<(DateTimeOffset Start, DateTimeOffset End, string Id)> runs) =>
        string.Join("\n", runs.OrderBy(r => r.Start).Select(r => $"{r.Id} {r.Start:HH:mm:ss.fff} - {r.End:HH:mm:ss.fff}"));

    private static async Task<List<WorkflowRecord>> ReadAsync(IRatchetStore store, IReadOnlyList<string> ids)
    {
        var workflows = new List<WorkflowRecord>(ids.Count);
        foreach (var id in ids)
        {
            workflows.Add(await store.GetRequiredWorkflowAsync(id));
        }

        return workflows;
    }
}

/// <summary>The queue fleet on PostgreSQL: claims of the queue serialized by an advisory lock per queue.</summary>
public sealed class PostgresQueueFleetTests : QueueFleetTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => Ratchet.TestServers.ServerStores.PostgresAsync();

    protected override Task DropStoreAsync(string uri) => Ratchet.TestServers.ServerStores.DropPostgresAsync(uri);
}

/// <summary>The queue fleet on Redis: admission inside the claim script.</summary>
public sealed class RedisQueueFleetTests : QueueFleetTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => Ratchet.TestServers.ServerStores.RedisAsync();

    protected override Task DropStoreAsync(string uri) => Ratchet.TestServers.ServerStores.DropRedisAsync(uri);
}
