using Npgsql;
using Ratchet.Conformance;
using Ratchet.Postgres;
using Ratchet.Redis;
using Ratchet.Storage;

namespace Ratchet.TestServers;

/// <summary>
/// Stores on the PostgreSQL and Redis servers that <c>test.sh</c> starts, each isolated (a schema or a key prefix of its
/// own), with the URI the CLI takes for the same store. Shared (linked) by the test projects that need server stores
/// beyond the conformance suite: the multi-worker and migration tests.
/// </summary>
internal static class ServerStores
{
    /// <summary>A new, empty PostgreSQL store: its connection string (with its schema) and an open handle.</summary>
    public static async Task<(string Uri, IRatchetStore Store)> PostgresAsync(TimeProvider? clock = null)
    {
        var connectionString = TestEnvironment.RequireServer(TestEnvironment.PostgresVariable, "PostgreSQL");
        var uri = $"{connectionString.TrimEnd(';')};Schema=rt_{Guid.NewGuid():N}";
        var options = PostgresStoreOptions.FromUri(uri);
        options.TimeProvider = clock ?? TimeProvider.System;
        try
        {
            return (uri, await PostgresRatchetStore.OpenAsync(options));
        }
        catch (StoreUnavailableException ex)
        {
            throw TestEnvironment.Unavailable($"The PostgreSQL server in {TestEnvironment.PostgresVariable} does not answer: {ex.Message}", ex);
        }
    }

    /// <summary>Drops the schema of a store <see cref="PostgresAsync"/> made.</summary>
    public static async Task DropPostgresAsync(string uri)
    {
        var options = PostgresStoreOptions.FromUri(uri);
        await using var connection = new NpgsqlConnection(options.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{options.Schema}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A new, empty Redis store: its redis:// URI (with its key prefix) and an open handle.</summary>
    public static async Task<(string Uri, IRatchetStore Store)> RedisAsync(TimeProvider? clock = null)
    {
        var server = TestEnvironment.RequireServer(TestEnvironment.RedisVariable, "Redis");
        var uri = $"redis://{server}/0?prefix=rt-{Guid.NewGuid():N}-";
        var options = RedisStoreOptions.FromUri(uri);
        options.TimeProvider = clock ?? TimeProvider.System;
        try
        {
            return (uri, await RedisRatchetStore.OpenAsync(options));
        }
        catch (StoreUnavailableException ex)
        {
            throw TestEnvironment.Unavailable($"The Redis server in {TestEnvironment.RedisVariable} does not answer: {ex.Message}", ex);
        }
    }

    /// <summary>Deletes every key of a store <see cref="RedisAsync"/> made.</summary>
    public static async Task DropRedisAsync(string uri)
    {
        await using var store = await RedisRatchetStore.OpenAsync(RedisStoreOptions.FromUri(uri));
        await store.DeleteAllKeysAsync();
    }
}
