using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Ratchet.Sqlite;

/// <summary>A Microsoft.Data.Sqlite reader seen as an <see cref="IStoreRow"/>, for the shared row readers.</summary>
internal readonly struct ReaderRow(SqliteDataReader reader) : IStoreRow
{
    public bool IsNull(int ordinal) => reader.IsDBNull(ordinal);

    public string GetString(int ordinal) => reader.GetString(ordinal);

    public long GetInt64(int ordinal) => reader.GetInt64(ordinal);
}

/// <summary>
/// A statement prepared once on the writer's connection and run through SQLite's C API directly: binding and
/// stepping cost a few native calls, without the per-execution command, reader and parameter bookkeeping of
/// Microsoft.Data.Sqlite, which was most of a step commit's cost.
/// </summary>
/// <remarks>One SQL statement per instance. Not thread-safe: only the writer's thread uses it.</remarks>
internal sealed class Statement : IStoreRow, IDisposable
{
    private const int SqliteRow = 100;
    private const int SqliteDone = 101;
    private const int SqliteNull = 5;

    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private readonly Dictionary<string, int> _parameters = new(StringComparer.Ordinal);

    public Statement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle ?? throw new InvalidOperationException("The writer's connection is not open.");
        var rc = raw.sqlite3_prepare_v2(_database, sql, out _statement, out string tail);
        if (rc != 0)
        {
            throw Error(rc);
        }

        if (!string.IsNullOrWhiteSpace(tail))
        {
            _statement.Dispose();
            throw new ArgumentException($"A prepared statement holds one SQL statement; this one continues with '{tail.Trim()}'.", nameof(sql));
        }

        var count = raw.sqlite3_bind_parameter_count(_statement);
        for (var i = 1; i <= count; i++)
        {
            _parameters[raw.sqlite3_bind_parameter_name(_statement, i).utf8_to_string()] = i;
        }
    }

    public Statement Bind(string name, object? value)
    {
        var index = _parameters[name];
        var rc = value switch
        {
            null or DBNull => raw.sqlite3_bind_null(_statement, index),
            string text => raw.sqlite3_bind_text(_statement, index, text),
            long number => raw.sqlite3_bind_int64(_statement, index, number),
            int number => raw.sqlite3_bind_int64(_statement, index, number),
            bool flag => raw.sqlite3_bind_int64(_statement, index, flag ? 1 : 0),
            _ => throw new ArgumentException($"Cannot bind a {value.GetType().Name} to {name}.", nameof(value)),
        };
        return rc == 0 ? this : throw Error(rc);
    }

    /// <summary>Runs the statement to completion and returns the rows it changed.</summary>
    public int Execute()
    {
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == SqliteRow)
            {
                // RETURNING rows nobody asked for: step past them.
            }

            return rc == SqliteDone ? raw.sqlite3_changes(_database) : throw Error(rc);
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }

    /// <summary>The rowid of the last row this connection inserted.</summary>
    public long LastInsertRowId => raw.sqlite3_last_insert_rowid(_database);

    /// <summary>The first column of the first row: a long, a string, or null.</summary>
    public object? Scalar()
    {
        using var rows = Query();
        if (!rows.Read())
        {
            return null;
        }

        return raw.sqlite3_column_type(_statement, 0) switch
        {
            SqliteNull => null,
            1 => raw.sqlite3_column_int64(_statement, 0),
            _ => GetString(0),
        };
    }

    /// <summary>Starts stepping through rows; read columns from this statement while <see cref="Rows.Read"/> is true.</summary>
    public Rows Query() => new(this);

    public bool IsNull(int ordinal) => raw.sqlite3_column_type(_statement, ordinal) == SqliteNull;

    public string GetString(int ordinal) => raw.sqlite3_column_text(_statement, ordinal).utf8_to_string();

    public long GetInt64(int ordinal) => raw.sqlite3_column_int64(_statement, ordinal);

    public void Dispose() => _statement.Dispose();

    private SqliteException Error(int rc) =>
        new(raw.sqlite3_errmsg(_database).utf8_to_string(), rc, raw.sqlite3_extended_errcode(_database));

    /// <summary>A pass over a statement's rows; disposing it resets the statement for its next use.</summary>
    internal readonly struct Rows(Statement owner) : IDisposable
    {
        public bool Read()
        {
            var rc = raw.sqlite3_step(owner._statement);
            return rc switch
            {
                SqliteRow => true,
                SqliteDone => false,
                _ => throw owner.Error(rc),
            };
        }

        public void Dispose() => raw.sqlite3_reset(owner._statement);
    }
}
