using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using Ratchet.Engine;
using Ratchet.Files;
using Ratchet.Hosting;
using Ratchet.Postgres;
using Ratchet.Redis;
using Ratchet.Sqlite;
using Ratchet.Storage;
using StackExchange.Redis;

namespace Ratchet.Bench;

/// <summary>
/// The benchmark's stores, by the URIs the CLI takes: the application layer's registry reads them
/// (<see cref="StoreProviders"/>, each backend's own provider), so nothing of it is repeated here; the bench only adds
/// what a benchmark needs: pool and batch sizes, and the price of one bare durable write on the same server.
/// </summary>
internal static class BenchStores
{
    public static string Backend(string uri) => StoreProviders.Default.Parse(uri).Provider.Name;

    public static RatchetBuilder Use(RatchetBuilder builder, string uri, int? poolSize, int? commitBatch)
    {
        var target = StoreProviders.Default.Parse(uri);
        if (target.Options is PostgresStoreOptions postgres)
        {
            postgres.MaxPoolSize = poolSize ?? postgres.MaxPoolSize;
            postgres.MaxCommitBatch = commitBatch ?? postgres.MaxCommitBatch;
        }

        return builder.UseStore(target.Options, (options, cancellationToken) => target.Provider.OpenAsync(options, new StoreOpenSettings(), cancellationToken));
    }

    /// <summary>What one bare durable write costs on this store's disk or server, in µs, and what was measured.</summary>
    public static async Task<(double Microseconds, string What)> BareCommitAsync(string uri) => StoreProviders.Default.Parse(uri).Options switch
    {
        SqliteStoreOptions sqlite => (SqliteBareCommit(sqlite.Path), "sqlite insert, WAL, synchronous=FULL"),
        FilesStoreOptions files => (SqliteBareCommit(Path.Combine(files.Root, "bench.db")), "sqlite insert, WAL, synchronous=FULL, same disk"),
        PostgresStoreOptions postgres => (await PostgresBareCommitAsync(postgres), "postgres autocommit INSERT, one connection"),
        RedisStoreOptions redis => (await RedisBareWriteAsync(redis), "redis SET, appendfsync as configured"),
        var other => throw new NotSupportedException($"The bench has no bare write for {other.GetType().Name}."),
    };

    /// <summary>
    /// Sequential autocommit INSERTs into a plain table of the store's schema. Not a temporary table: PostgreSQL does
    /// not flush the WAL at commit for a transaction that wrote only temporary tables, so that would time no fsync.
    /// </summary>
    private static async Task<double> PostgresBareCommitAsync(PostgresStoreOptions options)
    {
        var table = $"\"{options.Schema}\".bench_bare_commit";
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(options.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using (var setup = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS \"{options.Schema}\"; CREATE TABLE IF NOT EXISTS {table} (id bigserial PRIMARY KEY, v text)", connection))
        {
            await setup.ExecuteNonQueryAsync();
        }

        await using var insert = new NpgsqlCommand($"INSERT INTO {table} (v) VALUES ('x')", connection);
        await insert.PrepareAsync();
        for (var i = 0; i < 20; i++)
        {
            await insert.ExecuteNonQueryAsync();
        }

        const int commits = 200;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < commits; i++)
        {
            await insert.ExecuteNonQueryAsync();
        }

        var us = clock.Elapsed.TotalMicroseconds / commits;
        await using (var drop = new NpgsqlCommand($"DROP TABLE {table}", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        return us;
    }

    /// <summary>Sequential SETs, each awaited: with <c>appendfsync always</c> each is one AOF write and fsync.</summary>
    private static async Task<double> RedisBareWriteAsync(RedisStoreOptions options)
    {
        var configuration = options.Configuration + (options.Password is { } password ? ",password=" + password : "");
        using var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        var database = redis.GetDatabase(options.Database);
        var key = options.KeyPrefix + "bench-bare-write";
        for (var i = 0; i < 20; i++)
        {
            await database.StringSetAsync(key, "x");
        }

        const int writes = 200;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < writes; i++)
        {
            await database.StringSetAsync(key, "x");
        }

        var us = clock.Elapsed.TotalMicroseconds / writes;
        await database.KeyDeleteAsync(key);
        return us;
    }

    /// <summary>
    /// Times sequential one-row commits on a bare SQLite file (WAL, synchronous=FULL) next to the store: the disk's
    /// price of durability in this run, to compare a durable step against.
    /// </summary>
    public static double SqliteBareCommit(string besidePath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(besidePath))!;
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "fsync-baseline.db");
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var setup = connection.CreateCommand();
            setup.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT);";
            setup.ExecuteNonQuery();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO t (v) VALUES ('x');";
            insert.Prepare();
            for (var i = 0; i < 20; i++)
            {
                insert.ExecuteNonQuery();
            }

            const int commits = 300;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < commits; i++)
            {
                insert.ExecuteNonQuery();
            }

            var us = clock.Elapsed.TotalMicroseconds / commits;
            SqliteConnection.ClearAllPools();
            File.Delete(path);
            return us;
        }
    }
}
