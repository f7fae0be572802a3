using Npgsql;

namespace Ratchet.Postgres;

/// <summary>A schema migration recorded as applied in a PostgreSQL store.</summary>
/// <param name="Version">Its number.</param>
/// <param name="Name">Its name.</param>
/// <param name="Checksum">The SHA-256 of its up script when it was applied.</param>
/// <param name="AppliedAt">When it was applied.</param>
public sealed record PostgresAppliedMigration(int Version, string Name, string Checksum, DateTimeOffset AppliedAt);

/// <summary>
/// The PostgreSQL store's numbered schema migrations: up and down scripts embedded in this assembly, recorded with
/// SHA-256 checksums in <c>ratchet_migrations</c> inside the store's schema. A store is migrated up when it opens,
/// under a transaction-scoped advisory lock so that processes opening at once migrate it exactly once; a store whose
/// schema is newer than this binary, or whose applied scripts differ from this binary's, is refused before anything
/// is written.
/// </summary>
public static class PostgresMigrations
{
    internal const string TableName = "ratchet_migrations";

    private static readonly MigrationScript[] All = MigrationScripts.Load(typeof(PostgresMigrations).Assembly, "Ratchet.Postgres.Migrations.");

    /// <summary>The highest schema version this binary knows.</summary>
    public static int LatestVersion => All[^1].Version;

    /// <summary>The migrations this binary carries, by version: number, name and checksum.</summary>
    public static IReadOnlyList<(int Version, string Name, string Checksum)> Known =>
        All.Select(m => (m.Version, m.Name, m.Checksum)).ToArray();

    /// <summary>
    /// Moves the store described by <paramref name="options"/> up or down to <paramref name="targetVersion"/> (0 removes
    /// every table; data in dropped tables is lost, the schema itself stays). Close stores open on it first.
    /// </summary>
    /// <exception cref="StoreSchemaException">The store is newer than this binary, or a checksum does not match.</exception>
    public static async Task MigrateAsync(PostgresStoreOptions options, int targetVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (targetVersion < 0 || targetVersion > LatestVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(targetVersion), targetVersion, $"Schema version {targetVersion} does not exist; choose 0 to {LatestVersion}.");
        }

        ThrowIfInvalid(options);
        var description = options.Describe();
        try
        {
            await using var source = PostgresConnections.CreateDataSource(options, pooling: false);
            await using var connection = await source.OpenConnectionAsync(cancellationToken);
            await MigrateAsync(connection, options, targetVersion, allowDown: true, cancellationToken);
        }
        catch (Exception ex)
        {
            throw PostgresErrors.Translate(ex, description);
        }
    }

    /// <summary>The migrations applied to the store, in order (empty for a new schema).</summary>
    public static async Task<IReadOnlyList<PostgresAppliedMigration>> GetAppliedAsync(PostgresStoreOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfInvalid(options);
        var description = options.Describe();
        try
        {
            await using var source = PostgresConnections.CreateDataSource(options, pooling: false);
            await using var connection = await source.OpenConnectionAsync(cancellationToken);
            return await ReadAppliedAsync(connection, options.Schema, cancellationToken);
        }
        catch (Exception ex)
        {
            throw PostgresErrors.Translate(ex, description);
        }
    }

    /// <summary>
    /// Brings the store up to <paramref name="targetVersion"/> (down too if <paramref name="allowDown"/>). Looks first
    /// without a lock or a write, so an up-to-date store costs one query and a refused one is left untouched.
    /// Returns the versions applied.
    /// </summary>
    internal static async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlConnection connection, PostgresStoreOptions options, int targetVersion, bool allowDown, CancellationToken cancellationToken)
    {
        var schema = options.Schema;
        var description = options.Describe();
        var current = await InspectAsync(connection, schema, description, cancellationToken);
        if (current == targetVersion || (current > targetVersion && !allowDown))
        {
            return [];
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Transaction-scoped, so a crash or a dropped connection can never leave it held.
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", cancellationToken, "ratchet-migrate:" + schema);

        // Another process may have migrated while we waited for the lock: look again inside it.
        current = await InspectAsync(connection, schema, description, cancellationToken);
        var applied = new List<int>();
        if (targetVersion > current)
        {
            await ExecuteAsync(connection, $"""
                CREATE SCHEMA IF NOT EXISTS {Quote(schema)};
                CREATE TABLE IF NOT EXISTS {Quote(schema)}.{TableName} (
                    version    integer NOT NULL PRIMARY KEY,
                    name       text    NOT NULL,
                    checksum   text    NOT NULL,
                    applied_at bigint  NOT NULL
                );
                SET LOCAL search_path TO {Quote(schema)};
                """, cancellationToken);
            foreach (var migration in All.Where(m => m.Version > current && m.Version <= targetVersion))
            {
                await ExecuteAsync(connection, migration.Up, cancellationToken);
                await ExecuteAsync(connection, $"INSERT INTO {Quote(schema)}.{TableName} (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
                    cancellationToken, migration.Version, migration.Name, migration.Checksum, StoreTime.ToMicroseconds(options.TimeProvider.GetUtcNow()));
                applied.Add(migration.Version);
            }
        }
        else if (targetVersion < current)
        {
            await ExecuteAsync(connection, $"SET LOCAL search_path TO {Quote(schema)};", cancellationToken);
            foreach (var migration in All.Where(m => m.Version > targetVersion && m.Version <= current).Reverse())
            {
                await ExecuteAsync(connection, migration.Down, cancellationToken);
                await ExecuteAsync(connection, $"DELETE FROM {Quote(schema)}.{TableName} WHERE version = $1", cancellationToken, migration.Version);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return applied;
    }

    /// <summary>
    /// Checks the schema without writing anything and returns the applied version: 0 for a missing or empty schema.
    /// Refuses a schema holding foreign tables, a newer schema and a checksum mismatch.
    /// </summary>
    private static async Task<int> InspectAsync(NpgsqlConnection connection, string schema, string description, CancellationToken cancellationToken)
    {
        var tables = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name", connection))
        {
            command.Parameters.Add(PostgresRows.Text(schema));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        if (!tables.Contains(TableName))
        {
            if (tables.Count > 0)
            {
                throw new StoreSchemaException(
                    $"The schema '{schema}' of {description} holds tables such as '{tables[0]}' but no {TableName}: it is not a Ratchet store. Choose another schema; nothing was changed.");
            }

            return 0;
        }

        var applied = await ReadAppliedAsync(connection, schema, cancellationToken);
        var version = 0;
        foreach (var migration in applied)
        {
            if (migration.Version > LatestVersion)
            {
                throw new StoreSchemaException(
                    $"The store {description} has schema version {applied[^1].Version}, newer than this Ratchet knows ({LatestVersion}). Upgrade Ratchet; nothing was changed.",
                    applied[^1].Version, LatestVersion);
            }

            var known = All.FirstOrDefault(m => m.Version == migration.Version);
            if (known is null || !string.Equals(known.Checksum, migration.Checksum, StringComparison.OrdinalIgnoreCase))
            {
                throw new StoreSchemaException(
                    $"Migration {migration.Version} ({migration.Name}) applied to {description} has checksum {MigrationScripts.Short(migration.Checksum)}, but this Ratchet's is {MigrationScripts.Short(known?.Checksum)}: the store was made by a different build. Use the Ratchet that made it; nothing was changed.",
                    migration.Version, LatestVersion);
            }

            version = Math.Max(version, migration.Version);
        }

        return version;
    }

    private static async Task<IReadOnlyList<PostgresAppliedMigration>> ReadAppliedAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        var applied = new List<PostgresAppliedMigration>();
        await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection))
        {
            exists.Parameters.Add(PostgresRows.Text($"{Quote(schema)}.{TableName}"));
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return applied;
            }
        }

        await using var command = new NpgsqlCommand($"SELECT version, name, checksum, applied_at FROM {Quote(schema)}.{TableName} ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(new PostgresAppliedMigration(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), StoreTime.FromMicroseconds(reader.GetInt64(3))));
        }

        return applied;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static void ThrowIfInvalid(PostgresStoreOptions options)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid PostgreSQL store options: " + string.Join(" ", problems), nameof(options));
        }
    }
}
