using Npgsql;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Postgres.Tests;

/// <summary>A schema of its own for one test, dropped afterwards, and small helpers on it.</summary>
public sealed class ScratchSchema : IAsyncDisposable
{
    public string Name { get; } = PostgresStoreFactory.NewSchema();

    public PostgresStoreOptions Options(TimeProvider clock) => PostgresStoreFactory.Options(Name, clock);

    public Task<PostgresRatchetStore> OpenAsync(TimeProvider clock) => PostgresRatchetStore.OpenAsync(Options(clock));

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresStoreFactory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", $"\"{Name}\"", StringComparison.Ordinal), connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresStoreFactory.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql.Replace("{schema}", $"\"{Name}\"", StringComparison.Ordinal), connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable(TestEnvironment.PostgresVariable) is { Length: > 0 })
        {
            await PostgresStoreFactory.DropSchemaAsync(Name);
        }
    }
}

internal static class Records
{
    public static WorkflowRecord Workflow(string id, DateTimeOffset now, DateTimeOffset? due = null) => new()
    {
        Id = id,
        Type = "pg-test",
        DefinitionVersion = "v1",
        Status = WorkflowStatus.Pending,
        DueAt = due ?? now,
        CreatedAt = now,
        UpdatedAt = now,
    };
}
