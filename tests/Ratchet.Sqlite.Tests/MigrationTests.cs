using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Sqlite.Tests;

public sealed class MigrationTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task OpenAsync_NewFile_RecordsEveryMigrationWithItsChecksum()
    {
        var path = _scratch.File("new.db");

        await using (await SqliteTestStores.OpenAsync(path, _clock))
        {
        }

        var applied = await SqliteMigrations.GetAppliedAsync(path);
        Assert.Equal(SqliteMigrations.LatestVersion, applied.Count);
        Assert.Equal(SqliteMigrations.Known.Select(m => (m.Version, m.Name, m.Checksum)), applied.Select(m => (m.Version, m.Name, m.Checksum)));
        Assert.All(applied, m => Assert.Equal(_clock.GetUtcNow(), m.AppliedAt));
        Assert.All(applied, m => Assert.Matches("^[0-9a-f]{64}$", m.Checksum));
    }

    [Fact]
    public async Task GetAppliedAsync_MissingFile_IsEmptyAndCreatesNothing()
    {
        var path = _scratch.File("missing.db");

        var applied = await SqliteMigrations.GetAppliedAsync(path);

        Assert.Empty(applied);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task MigrateAsync_ToLatestOnCurrentStore_ChangesNothing()
    {
        var path = _scratch.File("current.db");
        string before;
        await using (var store = await SqliteTestStores.OpenAsync(path, _clock))
        {
            await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
            before = await SqliteTestStores.ExportTextAsync(store);
        }

        var appliedBefore = await SqliteMigrations.GetAppliedAsync(path);
        await SqliteMigrations.MigrateAsync(path, SqliteMigrations.LatestVersion);

        Assert.Equal(appliedBefore, await SqliteMigrations.GetAppliedAsync(path));
        await using var reopened = await SqliteTestStores.OpenAsync(path, _clock);
        Assert.Equal(before, await SqliteTestStores.ExportTextAsync(reopened));
    }

    [Fact]
    public async Task MigrateAsync_DownToZero_RemovesEveryRatchetTableAndRecord()
    {
        var path = _scratch.File("down.db");
        await using (var store = await SqliteTestStores.OpenAsync(path, _clock))
        {
            await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
        }

        await SqliteMigrations.MigrateAsync(path, 0);

        Assert.Empty(await SqliteMigrations.GetAppliedAsync(path));
        // The migrations table itself stays (empty), so the file is still recognisably a Ratchet store at version 0.
        Assert.Equal(["ratchet_migrations"], await RawSqlite.TablesAsync(path));
    }

    [Fact]
    public async Task MigrateAsync_DownToZeroThenUp_StoreOpensEmptyAndWorks()
    {
        var path = _scratch.File("down-up.db");
        IReadOnlyList<string> tablesAtLatest;
        await using (var store = await SqliteTestStores.OpenAsync(path, _clock))
        {
            await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
        }

        tablesAtLatest = await RawSqlite.TablesAsync(path);

        await SqliteMigrations.MigrateAsync(path, 0);
        await SqliteMigrations.MigrateAsync(path, SqliteMigrations.LatestVersion);

        Assert.Equal(tablesAtLatest, await RawSqlite.TablesAsync(path));
        Assert.Equal(SqliteMigrations.Known.Select(m => m.Checksum), (await SqliteMigrations.GetAppliedAsync(path)).Select(m => m.Checksum));
        await using var reopened = await SqliteTestStores.OpenAsync(path, _clock);
        Assert.True((await reopened.ExportAsync()).IsEmpty);
        await SqliteTestStores.FillAsync(reopened, _clock.GetUtcNow());
        Assert.Equal(2, (await reopened.ExportAsync()).Workflows.Count);
    }

    [Fact]
    public async Task OpenAsync_AfterMigratingDownToZero_MigratesUpByItself()
    {
        var path = _scratch.File("auto-up.db");
        await using (await SqliteTestStores.OpenAsync(path, _clock))
        {
        }

        await SqliteMigrations.MigrateAsync(path, 0);
        await using var store = await SqliteTestStores.OpenAsync(path, _clock);

        Assert.Equal(SqliteMigrations.LatestVersion, (await SqliteMigrations.GetAppliedAsync(path)).Count);
        var created = await new WorkflowCreator(store, _clock).CreateAsync(new NewWorkflow { Type = "after-down", Id = "wf-1" });
        Assert.True(created.Created);
    }

    public static TheoryData<int> EarlierVersions()
    {
        var data = new TheoryData<int>();
        for (var version = SqliteMigrations.LatestVersion - 1; version >= 0; version--)
        {
            data.Add(version);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EarlierVersions))]
    public async Task MigrateAsync_DownToEarlierVersionThenUp_KeepsTheDataOfTablesThatSurvive(int version)
    {
        var path = _scratch.File($"down-to-{version}.db");
        await using (var store = await SqliteTestStores.OpenAsync(path, _clock))
        {
            await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
        }

        var contentAtLatest = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in await RawSqlite.TablesAsync(path))
        {
            contentAtLatest[table] = await RawSqlite.DumpTableAsync(path, table);
        }

        await SqliteMigrations.MigrateAsync(path, version);
        var applied = await SqliteMigrations.GetAppliedAsync(path);
        var surviving = (await RawSqlite.TablesAsync(path)).Where(t => t != "ratchet_migrations").ToArray();
        await SqliteMigrations.MigrateAsync(path, SqliteMigrations.LatestVersion);

        Assert.Equal(Enumerable.Range(1, version), applied.Select(m => m.Version));
        Assert.Equal(SqliteMigrations.LatestVersion, (await SqliteMigrations.GetAppliedAsync(path)).Count);
        Assert.Equal(contentAtLatest.Keys.Order(StringComparer.Ordinal), (await RawSqlite.TablesAsync(path)).Order(StringComparer.Ordinal));
        // With schema 1 only, going down to 0 drops every data table and this loop has nothing to compare; from the
        // second migration on, the tables that version N keeps must come back up with every row unchanged.
        foreach (var table in surviving)
        {
            Assert.Equal(contentAtLatest[table], await RawSqlite.DumpTableAsync(path, table));
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public async Task MigrateAsync_VersionThatDoesNotExist_ThrowsArgumentOutOfRange(int version)
    {
        var path = _scratch.File("range.db");

        var ex = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => SqliteMigrations.MigrateAsync(path, version));

        Assert.Contains($"choose 0 to {SqliteMigrations.LatestVersion}", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task MigrateAsync_LatestPlusOne_ThrowsArgumentOutOfRange()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() =>
            SqliteMigrations.MigrateAsync(_scratch.File("plus-one.db"), SqliteMigrations.LatestVersion + 1));
    }

    [Fact]
    public async Task OpenAsync_SchemaNewerThanBinary_RefusedWithOneLineMessageAndFileUntouched()
    {
        var path = await CreateClosedStoreAsync("newer.db");
        var newer = SqliteMigrations.LatestVersion + 1;
        await RawSqlite.ExecuteAsync(path,
            $"INSERT INTO ratchet_migrations (version, name, checksum, applied_at) VALUES ({newer}, 'from_the_future', '{new string('f', 64)}', 0);");
        var before = await FileFingerprint.CaptureAsync(path);

        var ex = await Assert.ThrowsAsync<StoreSchemaException>(() => SqliteTestStores.OpenAsync(path, _clock));

        Assert.Equal(before, await FileFingerprint.CaptureAsync(path));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains($"schema version {newer}, newer than this Ratchet knows ({SqliteMigrations.LatestVersion})", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(newer, ex.StoreVersion);
        Assert.Equal(SqliteMigrations.LatestVersion, ex.SupportedVersion);
        Assert.Equal("store-schema", ex.ErrorCode);
    }

    [Fact]
    public async Task MigrateAsync_SchemaNewerThanBinary_RefusedAndFileUntouched()
    {
        var path = await CreateClosedStoreAsync("newer-migrate.db");
        await RawSqlite.ExecuteAsync(path,
            $"INSERT INTO ratchet_migrations (version, name, checksum, applied_at) VALUES ({SqliteMigrations.LatestVersion + 1}, 'from_the_future', 'x', 0);");
        var before = await FileFingerprint.CaptureAsync(path);

        await Assert.ThrowsAsync<StoreSchemaException>(() => SqliteMigrations.MigrateAsync(path, 0));

        Assert.Equal(before, await FileFingerprint.CaptureAsync(path));
    }

    [Fact]
    public async Task OpenAsync_AppliedMigrationChecksumDiffers_RefusedWithOneLineMessageAndFileUntouched()
    {
        var path = await CreateClosedStoreAsync("checksum.db");
        await RawSqlite.ExecuteAsync(path, $"UPDATE ratchet_migrations SET checksum = '{new string('0', 64)}' WHERE version = 1;");
        var before = await FileFingerprint.CaptureAsync(path);

        var ex = await Assert.ThrowsAsync<StoreSchemaException>(() => SqliteTestStores.OpenAsync(path, _clock));

        Assert.Equal(before, await FileFingerprint.CaptureAsync(path));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains("Migration 1 (initial)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("has checksum 000000000000", ex.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1, ex.StoreVersion);
    }

    [Fact]
    public async Task OpenAsync_ChecksumMatches_IsAccepted()
    {
        var path = await CreateClosedStoreAsync("checksum-ok.db");

        await using var store = await SqliteTestStores.OpenAsync(path, _clock);

        Assert.Equal(2, (await store.ExportAsync()).Workflows.Count);
    }

    [Fact]
    public async Task OpenAsync_SqliteDatabaseOfAnotherApplication_RefusedAndFileUntouched()
    {
        var path = _scratch.File("foreign.db");
        await RawSqlite.ExecuteAsync(path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);");
        var before = await FileFingerprint.CaptureAsync(path);

        var ex = await Assert.ThrowsAsync<StoreSchemaException>(() => SqliteTestStores.OpenAsync(path, _clock));

        Assert.Equal(before, await FileFingerprint.CaptureAsync(path));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.Contains("not a Ratchet store", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'invoices'", ex.Message, StringComparison.Ordinal);
    }

    private async Task<string> CreateClosedStoreAsync(string name)
    {
        var path = _scratch.File(name);
        await using (var store = await SqliteTestStores.OpenAsync(path, _clock))
        {
            await SqliteTestStores.FillAsync(store, _clock.GetUtcNow());
        }

        return path;
    }
}
