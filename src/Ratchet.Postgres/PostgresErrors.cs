using System.Net.Sockets;
using Npgsql;

namespace Ratchet.Postgres;

/// <summary>Translates Npgsql's and PostgreSQL's errors into Ratchet's at the store's boundary.</summary>
internal static class PostgresErrors
{
    /// <summary>Raised by <c>ratchet_workflow_refused</c>: the workflow does not exist (detail: its id).</summary>
    public const string WorkflowMissing = "RT404";

    /// <summary>Raised by <c>ratchet_workflow_refused</c>: another version (detail: the stored version, 0 if none).</summary>
    public const string WorkflowConflict = "RT409";

    /// <summary>Raised by <c>ratchet_value_refused</c>: a key-value entry at another version (detail: the stored version).</summary>
    public const string ValueConflict = "RT410";

    /// <summary>Raised by <c>ratchet_signal_refused</c>: a signal condition failed (detail: the sequence not pending, or the name pending).</summary>
    public const string SignalConflict = "RT411";

    public const string UniqueViolation = "23505";
    public const string ForeignKeyViolation = "23503";
    public const string SerializationFailure = "40001";
    public const string DeadlockDetected = "40P01";
    public const string UndefinedTable = "42P01";
    public const string UndefinedFunction = "42883";

    /// <summary>Whether running the whole operation again may succeed: PostgreSQL rolled it back for a reason of its own.</summary>
    public static bool IsRetryable(Exception exception) =>
        exception is PostgresException { SqlState: SerializationFailure or DeadlockDetected };

    /// <summary>Maps any exception met while talking to PostgreSQL to a <see cref="RatchetException"/>; Ratchet's own pass through.</summary>
    public static Exception Translate(Exception exception, string store)
    {
        switch (exception)
        {
            case RatchetException or ArgumentException or OperationCanceledException or ObjectDisposedException:
                return exception;
            case PostgresException postgres:
                return Translate(postgres, store);
            case NpgsqlException { InnerException: TimeoutException } or TimeoutException:
                return new StoreUnavailableException(
                    $"The PostgreSQL store {store} did not answer in time ({exception.Message.TrimEnd('.')}). Check the server's load and the network, then try again; raise CommandTimeout for long operations.",
                    exception);
            case NpgsqlException npgsql when npgsql.IsTransient || npgsql.InnerException is SocketException or IOException:
                return new StoreUnavailableException(
                    $"The PostgreSQL store {store} cannot be reached ({exception.Message.TrimEnd('.')}). Check that the server is running and accepts connections at that address, then try again.",
                    exception);
            case NpgsqlException npgsql:
                return new StoreOperationException($"The PostgreSQL store {store} failed: {npgsql.Message}", npgsql);
            case SocketException or IOException:
                return new StoreUnavailableException(
                    $"The PostgreSQL store {store} cannot be reached ({exception.Message.TrimEnd('.')}). Check that the server is running, then try again.",
                    exception);
            default:
                return new StoreOperationException($"The PostgreSQL store {store} failed: {exception.Message}", exception);
        }
    }

    private static Exception Translate(PostgresException postgres, string store)
    {
        var state = postgres.SqlState;
        var text = postgres.MessageText.TrimEnd('.');
        if (state.StartsWith("08", StringComparison.Ordinal) || state is "57P01" or "57P02" or "57P03")
        {
            return new StoreUnavailableException(
                $"The PostgreSQL store {store} dropped or refused the connection ({state}: {text}). The server may be restarting or shutting down; try again shortly.",
                postgres);
        }

        if (state.StartsWith("53", StringComparison.Ordinal))
        {
            return new StoreUnavailableException(
                $"The PostgreSQL server of {store} is out of resources ({state}: {text}). Free connections, memory or disk space, or lower MaxPoolSize, then try again.",
                postgres);
        }

        if (state is SerializationFailure or DeadlockDetected or "55P03" or "57014")
        {
            return new StoreOperationException(
                $"The PostgreSQL store {store} aborted the operation ({state}: {text}); nothing was committed. Try again.",
                postgres, isTransient: true);
        }

        if (state is UndefinedTable or UndefinedFunction or "3F000")
        {
            return new StoreSchemaException(
                $"The PostgreSQL store {store} lacks Ratchet's tables ({state}: {text}); its schema was migrated down, dropped, or is not a Ratchet store. Open it with Ratchet to migrate it up.");
        }

        if (state.StartsWith("28", StringComparison.Ordinal) || state == "3D000")
        {
            return new StoreOperationException(
                $"The PostgreSQL store {store} refused the login ({state}: {text}). Check the user name, password and database in the connection string.",
                postgres);
        }

        return new StoreOperationException($"The PostgreSQL store {store} failed ({state}: {text}).", postgres);
    }
}
