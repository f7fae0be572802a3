using Microsoft.Data.Sqlite;

namespace Ratchet.Sqlite;

/// <summary>A schema migration recorded as applied in a store.</summary>
/// <param name="Version">Its number.</param>
/// <param name="Name">Its name.</param>
/// <param name="Checksum">The SHA-256 of its up script when it was applied.</param>
/// <param name="AppliedAt">When it was applied.</param>
public sealed record AppliedMigration(int Version, string Name, string Checksum, DateTimeOffset AppliedAt);

/// <summary>
/// The SQLite store's numbered schema migrations: up and down scripts embedded in this assembly, recorded with
/// SHA-256 checksums in <c>ratchet_migrations</c>. A store is migrated up when it opens; a store whose schema is newer
/// than this binary, or whose applied scripts differ from this binary's, is refused before anything is written.
/// </summary>
public static class SqliteMigrations
{
    internal const string TableName = "ratchet_migrations";

    private static readonly MigrationScript[] All = MigrationScripts.Load(typeof(SqliteMigrations).Assembly, "Ratchet.Sqlite.Migrations.");

    /// <summary>The highest schema version this binary knows.</summary>
    public static int LatestVersion => All[^1].Version;

    /// <summary>The migrations this binary carries, by version: number, name and checksum.</summary>
    public static IReadOnlyList<(int Version, string Name, string Checksum)> Known =>
        All.Select(m => (m.Version, m.Name, m.Checksum)).ToArray();

    /// <summary>
    /// Moves the store at <paramref name="path"/> up or down to <paramref name="targetVersion"/> (0 removes every
    /// table; data in dropped tables is lost). Close stores open on the file first.
    /// </summary>
    /// <exception cref="StoreSchemaException">The store is newer than this binary, or a checksum does not match.</exception>
    public static Task MigrateAsync(string path, int targetVersion, TimeProvider? clock = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (targetVersion < 0 || targetVersion > LatestVersion)
        {
            throw new ArgumentOutOfRangeException(nameof(targetVersion), targetVersion,
                $"Schema version {targetVersion} does not exist; choose 0 to {LatestVersion}.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.Run(() =>
        {
            SqliteConnections.EnsureFolder(path);
            var connectionString = SqliteConnections.ConnectionString(path, pooling: false, TimeSpan.FromSeconds(10));
            try
            {
                using var connection = SqliteConnections.Open(connectionString, TimeSpan.FromSeconds(10));
                var current = Inspect(connection, path);
                if (targetVersion >= current)
                {
                    MigrateUp(connection, path, targetVersion, clock ?? TimeProvider.System);
                }
                else
                {
                    MigrateDown(connection, path, targetVersion);
                }
            }
            catch (Exception ex)
            {
                throw SqliteErrors.Translate(ex, path);
            }
            finally
            {
                SqliteConnection.ClearAllPools();
            }
        }, cancellationToken);
    }

    /// <summary>The migrations applied to the store at <paramref name="path"/>, in order (empty for a new file).</summary>
    public static Task<IReadOnlyList<AppliedMigration>> GetAppliedAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
        {
            return Task.FromResult<IReadOnlyList<AppliedMigration>>([]);
        }

        return Task.Run<IReadOnlyList<AppliedMigration>>(() =>
        {
            var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
            try
            {
                using var connection = new SqliteConnection(connectionString);
                connection.Open();
                return ReadApplied(connection);
            }
            catch (Exception ex)
            {
                throw SqliteErrors.Translate(ex, path);
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Checks the schema without writing anything and returns the applied version: 0 for a fresh file.
    /// Refuses a foreign database, a newer schema and a checksum mismatch.
    /// </summary>
    internal static int Inspect(SqliteConnection connection, string path)
    {
        var tables = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%';";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        if (!tables.Contains(TableName))
        {
            if (tables.Count > 0)
            {
                throw new StoreSchemaException(
                    $"'{path}' is a SQLite database but not a Ratchet store (it has tables such as '{tables[0]}' and no {TableName}). Point the store at another file.");
            }

            return 0;
        }

        var applied = ReadApplied(connection);
        var version = 0;
        foreach (var migration in applied)
        {
            if (migration.Version > LatestVersion)
            {
                throw new StoreSchemaException(
                    $"The store '{path}' has schema version {applied[^1].Version}, newer than this Ratchet knows ({LatestVersion}). Upgrade Ratchet; nothing was changed.",
                    applied[^1].Version, LatestVersion);
            }

            var known = All.FirstOrDefault(m => m.Version == migration.Version);
            if (known is null || !string.Equals(known.Checksum, migration.Checksum, StringComparison.OrdinalIgnoreCase))
            {
                throw new StoreSchemaException(
                    $"Migration {migration.Version} ({migration.Name}) applied to '{path}' has checksum {MigrationScripts.Short(migration.Checksum)}, but this Ratchet's is {MigrationScripts.Short(known?.Checksum)}: the store was made by a different build. Use the Ratchet that made it; nothing was changed.",
                    migration.Version, LatestVersion);
            }

            version = Math.Max(version, migration.Version);
        }

        return version;
    }

    /// <summary>Applies every migration above the current version up to <paramref name="targetVersion"/>, one transaction each.</summary>
    internal static IReadOnlyList<int> MigrateUp(SqliteConnection connection, string path, int targetVersion, TimeProvider clock)
    {
        var appliedNow = new List<int>();
        foreach (var migration in All.Where(m => m.Version <= targetVersion))
        {
            SqliteConnections.Execute(connection, "BEGIN IMMEDIATE;");
            try
            {
                // Another process may have migrated while we waited for the write lock: look again inside it.
                if (Inspect(connection, path) >= migration.Version)
                {
                    SqliteConnections.Execute(connection, "COMMIT;");
                    continue;
                }

                SqliteConnections.Execute(connection, $"""
                    CREATE TABLE IF NOT EXISTS {TableName} (
                        version    INTEGER NOT NULL PRIMARY KEY,
                        name       TEXT    NOT NULL,
                        checksum   TEXT    NOT NULL,
                        applied_at INTEGER NOT NULL
                    );
                    """);
                SqliteConnections.Execute(connection, migration.Up);
                using (var record = connection.CreateCommand())
                {
                    record.CommandText = $"INSERT INTO {TableName} (version, name, checksum, applied_at) VALUES ($version, $name, $checksum, $at);";
                    record.Parameters.AddWithValue("$version", migration.Version);
                    record.Parameters.AddWithValue("$name", migration.Name);
                    record.Parameters.AddWithValue("$checksum", migration.Checksum);
                    record.Parameters.AddWithValue("$at", StoreTime.ToMicroseconds(clock.GetUtcNow()));
                    record.ExecuteNonQuery();
                }

                SqliteConnections.Execute(connection, "COMMIT;");
                appliedNow.Add(migration.Version);
            }
            catch
            {
                SqliteConnections.Execute(connection, "ROLLBACK;");
                throw;
            }
        }

        return appliedNow;
    }

    private static void MigrateDown(SqliteConnection connection, string path, int targetVersion)
    {
        foreach (var migration in All.Where(m => m.Version > targetVersion).Reverse())
        {
            SqliteConnections.Execute(connection, "BEGIN IMMEDIATE;");
            try
            {
                if (Inspect(connection, path) < migration.Version)
                {
                    SqliteConnections.Execute(connection, "COMMIT;");
                    continue;
                }

                SqliteConnections.Execute(connection, migration.Down);
                SqliteConnections.Execute(connection, $"DELETE FROM {TableName} WHERE version = {migration.Version};");
                SqliteConnections.Execute(connection, "COMMIT;");
            }
            catch
            {
                SqliteConnections.Execute(connection, "ROLLBACK;");
                throw;
            }
        }
    }

    private static List<AppliedMigration> ReadApplied(SqliteConnection connection)
    {
        var exists = Convert.ToInt64(SqliteConnections.Scalar(connection,
            $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{TableName}';"), System.Globalization.CultureInfo.InvariantCulture);
        var applied = new List<AppliedMigration>();
        if (exists == 0)
        {
            return applied;
        }

        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT version, name, checksum, applied_at FROM {TableName} ORDER BY version;";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            applied.Add(new AppliedMigration(reader.GetInt32(0), reader.GetString(1), reader.GetString(2), StoreTime.FromMicroseconds(reader.GetInt64(3))));
        }

        return applied;
    }
}
