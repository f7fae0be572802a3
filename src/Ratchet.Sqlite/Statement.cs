using Microsoft.Data.Sqlite;

namespace Ratchet.Sqlite;

/// <summary>
/// A prepared statement kept for the life of a connection, so the writer's hot path only binds values:
/// SQLite compiles each statement once, not once per commit.
/// </summary>
internal sealed class Statement : IDisposable
{
    private readonly SqliteCommand _command;
    private readonly Dictionary<string, SqliteParameter> _parameters = new(StringComparer.Ordinal);

    public Statement(SqliteConnection connection, string sql)
    {
        _command = connection.CreateCommand();
        _command.CommandText = sql;
        foreach (var name in ParameterNames(sql))
        {
            _parameters[name] = _command.Parameters.Add(new SqliteParameter(name, null));
        }
    }

    public Statement Bind(string name, object? value)
    {
        _parameters[name].Value = value ?? DBNull.Value;
        return this;
    }

    public int Execute() => _command.ExecuteNonQuery();

    public object? Scalar()
    {
        var value = _command.ExecuteScalar();
        return value is DBNull ? null : value;
    }

    public SqliteDataReader Reader() => _command.ExecuteReader();

    public void Dispose() => _command.Dispose();

    private static IEnumerable<string> ParameterNames(string sql)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sql.Length; i++)
        {
            if (sql[i] != '$')
            {
                continue;
            }

            var end = i + 1;
            while (end < sql.Length && (char.IsAsciiLetterOrDigit(sql[end]) || sql[end] == '_'))
            {
                end++;
            }

            var name = sql[i..end];
            if (name.Length > 1 && seen.Add(name))
            {
                yield return name;
            }

            i = end - 1;
        }
    }
}
