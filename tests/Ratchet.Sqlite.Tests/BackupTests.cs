using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Sqlite.Tests;

public sealed class BackupTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task BackupAsync_StoreWithData_CopyOpensAsStoreWithTheSameExport()
    {
        var backupPath = _scratch.File("backups/copy.db");
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("source.db"), _clock);
        await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
        var exported = await SqliteTestStores.ExportTextAsync(store);

        await store.BackupAsync(backupPath);

        await using var copy = await SqliteTestStores.OpenAsync(backupPath, _clock);
        Assert.Equal(exported, await SqliteTestStores.ExportTextAsync(copy));
        Assert.Equal(SqliteMigrations.LatestVersion, (await SqliteMigrations.GetAppliedAsync(backupPath)).Count);
        Assert.Single(await copy.ListCheckpointsAsync("settings"));
    }

    [Fact]
    public async Task BackupAsync_LaterWritesToSource_DoNotReachTheCopy()
    {
        var backupPath = _scratch.File("copy.db");
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("source.db"), _clock);
        await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
        var exported = await SqliteTestStores.ExportTextAsync(store);

        await store.BackupAsync(backupPath);
        await store.SaveValueAsync("settings", "after-backup", RatchetJson.Parse("true"));
        await store.DeleteWorkflowAsync("wf-a");

        await using var copy = await SqliteTestStores.OpenAsync(backupPath, _clock);
        Assert.Equal(exported, await SqliteTestStores.ExportTextAsync(copy));
    }

    [Fact]
    public async Task BackupAsync_WhileWritersCommit_CopyIsAConsistentPointInTime()
    {
        var backupPath = _scratch.File("online.db");
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("busy.db"), _clock);
        await new WorkflowCreator(store, _clock).CreateAsync(new NewWorkflow { Id = "counter", Type = "backup-test" });
        using var stop = new CancellationTokenSource();
        var committed = 0;

        // Each commit raises the counter and appends one event in the same change set: a consistent copy has exactly
        // as many increment events as the counter says, whatever moment it was taken at.
        async Task WriteAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                await store.TransactionAsync(async (tx, ct) =>
                {
                    var entry = await tx.GetValueAsync("backup", "counter", ct);
                    var next = (entry?.Value.GetInt64() ?? 0) + 1;
                    tx.SaveValue("backup", "counter", RatchetJson.ToElement(next));
                    tx.AppendEvent(new AuditEvent { WorkflowId = "counter", Type = "increment", At = _clock.GetStoreNow() });
                }, new TransactionOptions { MaxAttempts = 10_000 });
                Interlocked.Increment(ref committed);
            }
        }

        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(WriteAsync)).ToArray();
        while (Volatile.Read(ref committed) < 50)
        {
            await Task.Delay(5);
        }

        await store.BackupAsync(backupPath);
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        await using var copy = await SqliteTestStores.OpenAsync(backupPath, _clock);
        var counter = (await copy.GetValueAsync("backup", "counter"))!.Value.GetInt64();
        var increments = (await copy.GetEventsAsync("counter")).Count(e => e.Type == "increment");
        Assert.InRange(counter, 50, Volatile.Read(ref committed));
        Assert.Equal(counter, increments);
        var final = (await store.GetValueAsync("backup", "counter"))!.Value.GetInt64();
        Assert.Equal(Volatile.Read(ref committed), final);
    }

    [Fact]
    public async Task BackupAsync_DestinationExists_RefusedAndExistingFileUntouched()
    {
        var backupPath = _scratch.File("existing.db");
        await File.WriteAllTextAsync(backupPath, "an older backup");
        await using var store = await SqliteTestStores.OpenAsync(_scratch.File("source.db"), _clock);
        await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => store.BackupAsync(backupPath));

        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal("an older backup", await File.ReadAllTextAsync(backupPath));
    }
}
