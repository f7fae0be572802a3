using System.Collections.Concurrent;
using Npgsql;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Postgres.Tests;

/// <summary>
/// Each conformance test's PostgreSQL store: a new schema on the server named by <c>RATCHET_TEST_POSTGRES</c>,
/// dropped with everything in it afterwards.
/// </summary>
public sealed class PostgresStoreFactory : StoreFactory
{
    private readonly ConcurrentDictionary<IRatchetStore, string> _schemas = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc />
    public override string Name => "postgres";

    /// <summary>The test server's connection string; a skip (or, in CI, a failure) when it is not configured.</summary>
    public static string ConnectionString => TestEnvironment.RequireServer(TestEnvironment.PostgresVariable, "PostgreSQL");

    /// <summary>A schema name no other test uses.</summary>
    public static string NewSchema() => "rt_" + Guid.NewGuid().ToString("N")[..20];

    /// <summary>Options for <paramref name="schema"/> on the test server.</summary>
    public static PostgresStoreOptions Options(string schema, TimeProvider clock) =>
        new() { ConnectionString = ConnectionString, Schema = schema, TimeProvider = clock, MaxPoolSize = 20 };

    /// <inheritdoc />
    public override async Task<IRatchetStore> CreateStoreAsync(TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var schema = NewSchema();
        var store = await OpenAsync(schema, clock, cancellationToken);
        _schemas[store] = schema;
        return store;
    }

    /// <inheritdoc />
    public override async Task DropStoreAsync(IRatchetStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await store.DisposeAsync();
        if (_schemas.TryRemove(store, out var schema))
        {
            await DropSchemaAsync(schema, cancellationToken);
        }
    }

    /// <inheritdoc />
    public override async Task<IRatchetStore> ReopenStoreAsync(IRatchetStore store, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!_schemas.TryRemove(store, out var schema))
        {
            throw new ArgumentException("This factory did not create that store, or it was dropped.", nameof(store));
        }

        await store.DisposeAsync();
        try
        {
            var reopened = await OpenAsync(schema, clock, cancellationToken);
            _schemas[reopened] = schema;
            return reopened;
        }
        catch
        {
            await DropSchemaAsync(schema, cancellationToken);
            throw;
        }
    }

    /// <summary>Drops a test schema and everything in it.</summary>
    public static async Task DropSchemaAsync(string schema, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IRatchetStore> OpenAsync(string schema, TimeProvider clock, CancellationToken cancellationToken)
    {
        try
        {
            return await PostgresRatchetStore.OpenAsync(Options(schema, clock), cancellationToken);
        }
        catch (StoreUnavailableException ex)
        {
            throw TestEnvironment.Unavailable($"The PostgreSQL server in {TestEnvironment.PostgresVariable} does not answer: {ex.Message}", ex);
        }
    }
}
