using Ratchet.Conformance;
using Ratchet.Engine;
using Ratchet.Sqlite;
using Ratchet.Yaml;

namespace Ratchet.Cli.Tests;

/// <summary>
/// Three <c>ratchet worker</c> processes share one store; one is killed with SIGKILL while it holds workflows. Every
/// workflow must complete, each node exactly once in the journal, the killed worker's workflows taken over by the others
/// once its lease lapses. Each backend that supports several processes runs it through a subclass.
/// </summary>
public abstract class WorkerFleetTests : IAsyncLifetime
{
    private const int WorkflowCount = 24;
    private static readonly string[] Nodes = ["scout", "plan", "build", "verify"];

    private CliSandbox? _sandbox;
    private IRatchetStore? _store;

    /// <summary>A new, empty store: its URI for the CLI and an open handle for the test to look into.</summary>
    protected abstract Task<(string Uri, IRatchetStore Store)> CreateStoreAsync();

    /// <summary>Deletes what <see cref="CreateStoreAsync"/> made (the handle is already closed).</summary>
    protected virtual Task DropStoreAsync(string uri) => Task.CompletedTask;

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
    public async Task ThreeWorkers_OneKilledMidRun_EveryWorkflowCompletesWithEachNodeOnce()
    {
        var (uri, store) = await CreateStoreAsync();
        _store = store;
        _sandbox = new CliSandbox(uri);
        var ids = await StartWorkflowsAsync(_sandbox, store);

        var workers = Enumerable.Range(0, 3).Select(_ => _sandbox.Start(["worker", "--concurrency", "4", "--lease", "2s"])).ToList();
        try
        {
            var victim = workers[0];
            var victimMark = $":{victim.Id}:";
            // Killed while nodes run in it: those workflows are Running at a started attempt, leased by it. It is frozen
            // (SIGSTOP) before the store is read, so what it holds cannot finish between the look and the kill; a look
            // that catches it between workflows lets it go on and looks again.
            var heldWhenKilled = new List<string>();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (heldWhenKilled.Count == 0 && DateTime.UtcNow < deadline)
            {
                Assert.True(await Eventually.TrueAsync(async () => (await RunningInAsync(store, ids, victimMark)).Count >= 2, seconds: 60),
                    $"worker {victim.Id} never ran two workflows at once.\n{victim.Stderr}");
                await victim.SignalAsync("STOP");
                heldWhenKilled = await RunningInAsync(store, ids, victimMark);
                if (heldWhenKilled.Count == 0)
                {
                    await victim.SignalAsync("CONT");
                }
            }

            Assert.NotEmpty(heldWhenKilled);
            await victim.KillAsync();

            var allCompleted = await Eventually.TrueAsync(async () => (await ReadAsync(store, ids)).All(w => w.Status == WorkflowStatus.Completed), seconds: 120);
            Assert.True(allCompleted,
                $"not every workflow completed: {string.Join(", ", (await ReadAsync(store, ids)).Select(w => $"{w.Id}={w.Status}@{w.CurrentNode}"))}\n--- worker 2\n{workers[1].Stderr}\n--- worker 3\n{workers[2].Stderr}");
            foreach (var id in ids)
            {
                var completed = (await store.GetStepsAsync(id)).Where(s => s.Outcome == StepOutcome.Completed).Select(s => s.Node).ToList();
                Assert.Equal(Nodes, completed);
            }

            foreach (var id in heldWhenKilled)
            {
                var workflow = await store.GetRequiredWorkflowAsync(id);
                Assert.DoesNotContain(victimMark, workflow.LeaseOwner ?? "", StringComparison.Ordinal);
            }

            foreach (var id in heldWhenKilled)
            {
                Assert.Contains(await store.GetEventsAsync(id), e => e.Type == AuditEventTypes.Recovered);
            }
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
    }

    /// <summary>Records the workflow file's definition and starts the workflows, as <c>ratchet run --detach</c> does, in one process.</summary>
    private static async Task<IReadOnlyList<string>> StartWorkflowsAsync(CliSandbox sandbox, IRatchetStore store)
    {
        var file = sandbox.Write("fleet.yaml", "name: fleet\nnodes:\n" + string.Concat(Nodes.Select(n => $"  {n}:\n    run: sleep 0.3 && echo {n}\n")));
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
            ids.Add((await engine.StartAsync("fleet", options: new StartOptions { Id = $"fleet-{index:D2}" })).Id);
        }

        return ids;
    }

    private static async Task<List<string>> RunningInAsync(IRatchetStore store, IReadOnlyList<string> ids, string ownerMark) =>
        (await ReadAsync(store, ids))
            .Where(w => w.Status == WorkflowStatus.Running && w.Attempt >= 1 && w.LeaseOwner?.Contains(ownerMark, StringComparison.Ordinal) == true)
            .Select(w => w.Id)
            .ToList();

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

/// <summary>The fleet on one SQLite file: several processes on one machine.</summary>
public sealed class SqliteWorkerFleetTests : WorkerFleetTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => SharedSqlite.CreateAsync("ratchet-fleet-");

    protected override Task DropStoreAsync(string uri) => SharedSqlite.DropAsync(uri);
}

/// <summary>A SQLite file in a directory of its own, for tests whose processes share one store.</summary>
internal static class SharedSqlite
{
    public static async Task<(string Uri, IRatchetStore Store)> CreateAsync(string directoryPrefix)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory(directoryPrefix).FullName, "store.db");
        return ("sqlite:" + path, await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = path }));
    }

    /// <summary>Deletes the directory <see cref="CreateAsync"/> made (the store's handle is already closed).</summary>
    public static Task DropAsync(string uri)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(Path.GetDirectoryName(uri["sqlite:".Length..])!, recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>The fleet on PostgreSQL: claims with SKIP LOCKED, wake-ups by LISTEN/NOTIFY.</summary>
public sealed class PostgresWorkerFleetTests : WorkerFleetTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => Ratchet.TestServers.ServerStores.PostgresAsync();

    protected override Task DropStoreAsync(string uri) => Ratchet.TestServers.ServerStores.DropPostgresAsync(uri);
}

/// <summary>The fleet on Redis: claims and commits by Lua scripts, wake-ups by pub/sub.</summary>
public sealed class RedisWorkerFleetTests : WorkerFleetTests
{
    protected override Task<(string Uri, IRatchetStore Store)> CreateStoreAsync() => Ratchet.TestServers.ServerStores.RedisAsync();

    protected override Task DropStoreAsync(string uri) => Ratchet.TestServers.ServerStores.DropRedisAsync(uri);
}
