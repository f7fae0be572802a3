using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Migration.Tests;

/// <summary>Migrations between real stores: what is copied, what is refused, what is verified.</summary>
public sealed class MigrationTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(TestClock.Start);
    private readonly TestStores _stores = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _stores.DisposeAsync().AsTask();

    [Fact]
    public async Task MigrateAsync_SqliteToFilesAndBack_ExportIdenticalToTheOriginal()
    {
        var original = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(original, _clock, extraWorkflows: 23);
        var files = await _stores.FilesAsync(_clock);
        var back = await _stores.SqliteAsync(_clock);
        var progress = new List<MigrationProgress>();

        var there = await StoreMigration.MigrateAsync(original, files, new MigrationOptions { BatchSize = 7, Progress = new SyncProgress(progress) });
        var home = await StoreMigration.MigrateAsync(files, back, new MigrationOptions { BatchSize = 5 });

        Assert.Equal(await ExportTextAsync(original), await ExportTextAsync(back));
        Assert.True(there.Verified && home.Verified);
        Assert.Equal(28, there.Sections.Single(s => s.Kind == "workflows").CopiedCount);
        Assert.Equal(0, there.Kept);
        var batches = progress.Where(p => p.Stage == MigrationStage.Workflows).Select(p => p.Done).ToArray();
        Assert.Equal([0L, 7, 14, 21, 28], batches);
        Assert.All(progress.Where(p => p.Stage == MigrationStage.Workflows), p => Assert.Equal(28, p.Total));
        Assert.Equal(MigrationStage.Verifying, progress[^1].Stage);
    }

    [Fact]
    public async Task MigrateAsync_TargetHoldsData_RefusedAndNothingWritten()
    {
        var source = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(source, _clock);
        var target = await _stores.SqliteAsync(_clock);
        await target.SaveValueAsync("mine", "k", RatchetJson.Parse("1"));
        var before = await ExportTextAsync(target);

        await Assert.ThrowsAsync<StoreNotEmptyException>(() => StoreMigration.MigrateAsync(source, target));

        Assert.Equal(before, await ExportTextAsync(target));
    }

    [Fact]
    public async Task MigrateAsync_Merge_KeepsTheTargetsRecordsAndAddsTheRest()
    {
        var source = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(source, _clock, extraWorkflows: 3);
        var target = await _stores.FilesAsync(_clock);
        var creator = new WorkflowCreator(target, _clock);
        await creator.CreateAsync(new NewWorkflow { Type = "target-own", Id = "wf-extra-0001" });
        await target.SaveValueAsync("default", "a", RatchetJson.Parse("\"kept by the target\""));
        await target.SaveValueAsync("target-only", "k", RatchetJson.Parse("true"));

        var report = await StoreMigration.MigrateAsync(source, target, new MigrationOptions { Merge = true, BatchSize = 2 });

        Assert.True(report.Verified);
        Assert.Equal(2, report.Kept);
        Assert.Equal("target-own", (await target.GetRequiredWorkflowAsync("wf-extra-0001")).Type);
        Assert.Equal("\"kept by the target\"", (await target.GetValueAsync("default", "a"))!.Value.GetRawText());
        Assert.NotNull(await target.GetValueAsync("target-only", "k"));
        Assert.Equal((await source.GetStepsAsync("wf-rich")).Count, (await target.GetStepsAsync("wf-rich")).Count);
        string[] untouched = ["only-checkpoint", "wf-rich", "zz"];
        Assert.Equal(await ExportTextAsync(source, "wf-extra-0001", untouched), await ExportTextAsync(target, "wf-extra-0001", untouched));
    }

    [Fact]
    public async Task MigrateAsync_InterruptedThenMerged_EndsIdenticalToTheSource()
    {
        var source = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(source, _clock, extraWorkflows: 10);
        var target = await _stores.SqliteAsync(_clock);
        using var interrupt = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            if (p.Stage == MigrationStage.Workflows && p.Done >= 6)
            {
                interrupt.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => StoreMigration.MigrateAsync(source, target, new MigrationOptions { BatchSize = 3, Progress = progress }, interrupt.Token));
        var partial = (await target.ExportAsync()).Workflows.Count;
        var report = await StoreMigration.MigrateAsync(source, target, new MigrationOptions { Merge = true, BatchSize = 3 });

        Assert.Equal(6, partial);
        Assert.Equal(6, report.Kept);
        Assert.True(report.Verified);
        Assert.Equal(await ExportTextAsync(source), await ExportTextAsync(target));
    }

    [Fact]
    public async Task MigrateAsync_TargetChangedDuringTheCopy_VerificationFailsNamingTheKind()
    {
        var source = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(source, _clock, extraWorkflows: 4);
        var target = await _stores.FilesAsync(_clock);
        var tampered = false;
        var progress = new SyncProgress(p =>
        {
            // Another process writing to the target while the migration runs: a copied journal gains a step. Progress is
            // reported synchronously, so the write waits here to land before the migration moves on to verify.
            if (p.Stage == MigrationStage.KeyValues && !tampered)
            {
                tampered = true;
                target.CommitAsync(new ChangeSet().AppendStep(new StepRecord
                {
                    WorkflowId = "wf-rich", Node = "intruder", Outcome = StepOutcome.Completed, StartedAt = _clock.GetStoreNow(), FinishedAt = _clock.GetStoreNow(),
                })).GetAwaiter().GetResult();
            }
        });

        var error = await Assert.ThrowsAsync<MigrationVerificationException>(
            () => StoreMigration.MigrateAsync(source, target, new MigrationOptions { Progress = progress }));

        Assert.Equal(["steps"], error.Report.Sections.Where(s => !s.Matches).Select(s => s.Kind));
        Assert.Contains("steps copied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MigrateKeyValuesAsync_OneNamespace_CopiesItsValuesAndCheckpointsOnly()
    {
        var source = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(source, _clock);
        var target = await _stores.FilesAsync(_clock);
        await new WorkflowCreator(target, _clock).CreateAsync(new NewWorkflow { Type = "unrelated", Id = "wf-target" });

        var report = await StoreMigration.MigrateKeyValuesAsync(source, target, new MigrationOptions { Namespaces = ["default"] });

        Assert.True(report.Verified);
        Assert.Equal(["values", "checkpoints"], report.Sections.Select(s => s.Kind));
        Assert.Equal(["default"], await target.ListNamespacesAsync());
        var sourceExport = await source.ExportAsync();
        var targetExport = await target.ExportAsync();
        Assert.Equal(Text(sourceExport.Values.Where(v => v.Namespace == "default")), Text(targetExport.Values));
        Assert.Equal(Text(sourceExport.Checkpoints.Where(c => c.Namespace == "default")), Text(targetExport.Checkpoints));
        Assert.Equal(["wf-target"], targetExport.Workflows.Select(w => w.Id));
    }

    [Fact]
    public async Task MigrateKeyValuesAsync_NamespaceExistsInTarget_RefusedUnlessMerge()
    {
        var source = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(source, _clock);
        var target = await _stores.SqliteAsync(_clock);
        await target.SaveValueAsync("default", "z", RatchetJson.Parse("0"));

        await Assert.ThrowsAsync<StoreNotEmptyException>(() => StoreMigration.MigrateKeyValuesAsync(source, target, new MigrationOptions { Namespaces = ["default"] }));
        var missing = await Assert.ThrowsAsync<ArgumentException>(() => StoreMigration.MigrateKeyValuesAsync(source, target, new MigrationOptions { Namespaces = ["nope"] }));
        var merged = await StoreMigration.MigrateKeyValuesAsync(source, target, new MigrationOptions { Namespaces = ["default"], Merge = true });

        Assert.Contains("no namespace 'nope'", missing.Message, StringComparison.Ordinal);
        Assert.True(merged.Verified);
        Assert.Equal(["a", "b", "z"], (await target.ListValuesAsync("default")).Select(v => v.Key));
    }

    private static string Text<T>(IEnumerable<T> records) =>
        string.Join("\n", records.Select(r => System.Text.Json.JsonSerializer.Serialize(r, RatchetJson.Options)));

    /// <summary>The store's export as text, optionally without one workflow's records and limited to some namespaces.</summary>
    internal static async Task<string> ExportTextAsync(IRatchetStore store, string? except = null, IReadOnlyList<string>? namespaces = null)
    {
        var snapshot = await store.ExportAsync();
        if (except is not null || namespaces is not null)
        {
            snapshot = snapshot with
            {
                Workflows = snapshot.Workflows.Where(w => w.Id != except).ToArray(),
                Steps = snapshot.Steps.Where(s => s.WorkflowId != except).ToArray(),
                Events = snapshot.Events.Where(e => e.WorkflowId != except).ToArray(),
                Commands = snapshot.Commands.Where(c => c.WorkflowId != except).ToArray(),
                Workspaces = snapshot.Workspaces.Where(w => w.WorkflowId != except).ToArray(),
                Values = snapshot.Values.Where(v => namespaces is null || namespaces.Contains(v.Namespace)).ToArray(),
                Checkpoints = snapshot.Checkpoints.Where(c => namespaces is null || namespaces.Contains(c.Namespace)).ToArray(),
            };
        }

        using var stream = new MemoryStream();
        await RatchetJson.WriteSnapshotAsync(stream, snapshot);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Progress reported on the caller's thread, in order (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<MigrationProgress> onReport) : IProgress<MigrationProgress>
    {
        public SyncProgress(List<MigrationProgress> sink)
            : this(sink.Add)
        {
        }

        public void Report(MigrationProgress value) => onReport(value);
    }
}

/// <summary>The round trip through every backend: SQLite → PostgreSQL → Redis → files → SQLite.</summary>
public sealed class MigrationRoundTripTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(TestClock.Start);
    private readonly TestStores _stores = new();
    private readonly List<Func<Task>> _drops = [];
    private readonly List<IRatchetStore> _servers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _servers)
        {
            await store.DisposeAsync();
        }

        foreach (var drop in _drops)
        {
            await drop();
        }

        await _stores.DisposeAsync();
    }

    [StoreFact]
    public async Task Migrate_SqliteToPostgresToRedisToFilesToSqlite_ExportIdenticalToTheOriginal()
    {
        var original = await _stores.SqliteAsync(_clock);
        await SampleStore.PopulateAsync(original, _clock, extraWorkflows: 12);
        var (postgresUri, postgres) = await Ratchet.TestServers.ServerStores.PostgresAsync(_clock);
        Track(postgres, () => Ratchet.TestServers.ServerStores.DropPostgresAsync(postgresUri));
        var (redisUri, redis) = await Ratchet.TestServers.ServerStores.RedisAsync(_clock);
        Track(redis, () => Ratchet.TestServers.ServerStores.DropRedisAsync(redisUri));
        var files = await _stores.FilesAsync(_clock);
        var back = await _stores.SqliteAsync(_clock);
        IRatchetStore[] path = [original, postgres, redis, files, back];

        var reports = new List<MigrationReport>();
        for (var i = 0; i + 1 < path.Length; i++)
        {
            reports.Add(await StoreMigration.MigrateAsync(path[i], path[i + 1], new MigrationOptions { BatchSize = 4 }));
        }

        var expected = await MigrationTests.ExportTextAsync(original);
        Assert.All(reports, r => Assert.True(r.Verified));
        foreach (var store in path[1..])
        {
            Assert.Equal(expected, await MigrationTests.ExportTextAsync(store));
        }
    }

    private void Track(IRatchetStore store, Func<Task> drop)
    {
        _servers.Add(store);
        _drops.Add(drop);
    }
}
