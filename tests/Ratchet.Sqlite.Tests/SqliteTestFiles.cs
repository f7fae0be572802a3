using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Sqlite.Tests;

/// <summary>A temporary directory for one test's database files, deleted (with every connection pool) at the end.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory()
    {
        Path = Directory.CreateTempSubdirectory("ratchet-sqlite-test-").FullName;
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}

/// <summary>The bytes of a database file and of its write-ahead log, to prove that an operation left them untouched.</summary>
/// <param name="Database">SHA-256 of the database file.</param>
/// <param name="Wal">SHA-256 of the <c>-wal</c> file; null when there is none or it is empty (no content).</param>
internal sealed record FileFingerprint(string Database, string? Wal)
{
    public static async Task<FileFingerprint> CaptureAsync(string path)
    {
        // Pooled connections of earlier stores would keep the WAL open: close everything before looking.
        SqliteConnection.ClearAllPools();
        var wal = path + "-wal";
        var walHash = File.Exists(wal) && new FileInfo(wal).Length > 0 ? await HashAsync(wal) : null;
        return new FileFingerprint(await HashAsync(path), walHash);
    }

    private static async Task<string> HashAsync(string path)
    {
        var bytes = await File.ReadAllBytesAsync(path);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }
}

/// <summary>Raw SQL against a database file, for tampering with a store the way a newer or different build would.</summary>
internal static class RawSqlite
{
    public static async Task ExecuteAsync(string path, string sql)
    {
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
    }

    public static async Task<IReadOnlyList<string>> TablesAsync(string path)
    {
        var tables = new List<string>();
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name;";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    }

    /// <summary>Every row of a table as text, in a stable order, to compare a table's content before and after.</summary>
    public static async Task<string> DumpTableAsync(string path, string table)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM \"{table}\";";
        var rows = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var values = new object[reader.FieldCount];
                reader.GetValues(values);
                rows.Add(string.Join('\u001f', values.Select(v => v is byte[] b ? Convert.ToHexString(b) : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture))));
            }
        }

        rows.Sort(StringComparer.Ordinal);
        return string.Join('\n', rows);
    }
}

/// <summary>Opening stores on a path and filling them with one of every kind of record.</summary>
internal static class SqliteTestStores
{
    public static Task<SqliteRatchetStore> OpenAsync(string path, TimeProvider? clock = null) =>
        SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = path, TimeProvider = clock ?? new FakeTimeProvider(TestClock.Start) });

    /// <summary>Commits two workflows with a step, an event, a command and a workspace each, values and a checkpoint.</summary>
    public static async Task FillAsync(IRatchetStore store, DateTimeOffset now)
    {
        foreach (var id in new[] { "wf-a", "wf-b" })
        {
            await store.CommitAsync(new ChangeSet()
                .CreateWorkflow(SampleRecords.RichWorkflow(id, now))
                .AppendStep(SampleRecords.RichStep(id, now))
                .AppendEvent(SampleRecords.RichEvent(id, now))
                .RecordCommand(SampleRecords.RichCommand(id, now))
                .PutWorkspace(SampleRecords.RichWorkspace(id, now)));
        }

        await store.CommitAsync(new ChangeSet()
            .SaveValue("settings", "model", RatchetJson.Parse("\"gpt\""))
            .SaveValue("settings", "tricky", SampleRecords.Tricky));
        await store.CreateCheckpointAsync("settings", "before-upgrade");
        await store.SaveValueAsync("settings", "model", RatchetJson.Parse("\"claude\""));
    }

    /// <summary>A store's export as the indented JSON a user would see, for whole-store comparisons.</summary>
    public static async Task<string> ExportTextAsync(IRatchetStore store)
    {
        using var stream = new MemoryStream();
        await RatchetJson.WriteSnapshotAsync(stream, await store.ExportAsync());
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
