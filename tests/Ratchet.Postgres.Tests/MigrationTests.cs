using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Postgres.Tests;

public sealed class MigrationTests : IAsyncLifetime
{
    private readonly ScratchSchema _schema = new();
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _schema.DisposeAsync().AsTask();

    [StoreFact]
    public async Task OpenAsync_NewSchema_RecordsEveryMigrationWithItsChecksum()
    {
        await using (await _schema.OpenAsync(_clock))
        {
        }

        var applied = await PostgresMigrations.GetAppliedAsync(_schema.Options(_clock));
        Assert.Equal(PostgresMigrations.LatestVersion, applied.Count);
        Assert.Equal(PostgresMigrations.Known.Select(m => (m.Version, m.Name, m.Checksum)), applied.Select(m => (m.Version, m.Name, m.Checksum)));
        Assert.All(applied, m => Assert.Equal(_clock.GetUtcNow(), m.AppliedAt));
        Assert.All(applied, m => Assert.Matches("^[0-9a-f]{64}$", m.Checksum));
    }

    [StoreFact]
    public async Task OpenAsync_Again_KeepsDataAndAppliesNothing()
    {
        await using (var store = await _schema.OpenAsync(_clock))
        {
            await store.CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow("wf-1", _clock.GetStoreNow())));
        }

        var before = await PostgresMigrations.GetAppliedAsync(_schema.Options(_clock));
        _clock.Advance(TimeSpan.FromHours(1));
        await using var reopened = await _schema.OpenAsync(_clock);

        Assert.Equal(before, await PostgresMigrations.GetAppliedAsync(_schema.Options(_clock)));
        Assert.NotNull(await reopened.GetWorkflowAsync("wf-1"));
    }

    [StoreFact]
    public async Task OpenAsync_SchemaNewerThanThisBuild_IsRefusedAndLeftUntouched()
    {
        await using (var store = await _schema.OpenAsync(_clock))
        {
            await store.CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow("wf-1", _clock.GetStoreNow())));
        }

        await _schema.ExecuteAsync("INSERT INTO {schema}.ratchet_migrations (version, name, checksum, applied_at) VALUES (99, 'future', 'abc', 0)");

        var refused = await Assert.ThrowsAsync<StoreSchemaException>(() => _schema.OpenAsync(_clock));

        Assert.Equal(99, refused.StoreVersion);
        Assert.Equal(PostgresMigrations.LatestVersion, refused.SupportedVersion);
        Assert.Contains("newer", refused.Message, StringComparison.Ordinal);
        Assert.Equal(PostgresMigrations.LatestVersion + 1L, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.ratchet_migrations"));
        Assert.Equal(1L, await _schema.ScalarAsync<long>("SELECT count(*) FROM {schema}.workflows"));
    }

    [StoreFact]
    public async Task OpenAsync_SchemaWithForeignTables_IsRefusedAndLeftUntouched()
    {
        await _schema.ExecuteAsync("CREATE SCHEMA {schema}; CREATE TABLE {schema}.customers (id int)");

        var refused = await Assert.ThrowsAsync<StoreSchemaException>(() => _schema.OpenAsync(_clock));

        Assert.Contains("customers", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1L, await _schema.ScalarAsync<long>(
            $"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{_schema.Name}'"));
    }

    [StoreFact]
    public async Task OpenAsync_EightProcessesAtOnce_MigrateOnceAndAllOpen()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => _schema.OpenAsync(_clock))));
        try
        {
            Assert.Equal(PostgresMigrations.LatestVersion, (await PostgresMigrations.GetAppliedAsync(_schema.Options(_clock))).Count);
            await stores[0].CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow("wf-1", _clock.GetStoreNow())));
            Assert.All(await Task.WhenAll(stores.Select(s => s.GetWorkflowAsync("wf-1"))), Assert.NotNull);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [StoreFact]
    public async Task MigrateAsync_DownToZeroThenOpen_RemovesEveryTableThenRebuilds()
    {
        await using (await _schema.OpenAsync(_clock))
        {
        }

        await PostgresMigrations.MigrateAsync(_schema.Options(_clock), 0);

        Assert.Empty(await PostgresMigrations.GetAppliedAsync(_schema.Options(_clock)));
        Assert.Equal(1L, await _schema.ScalarAsync<long>(
            $"SELECT count(*) FROM information_schema.tables WHERE table_schema = '{_schema.Name}'"));
        await using var reopened = await _schema.OpenAsync(_clock);
        Assert.Equal(PostgresMigrations.LatestVersion, (await PostgresMigrations.GetAppliedAsync(_schema.Options(_clock))).Count);
        Assert.Null(await reopened.GetWorkflowAsync("wf-1"));
    }
}
