using Microsoft.Data.Sqlite;

namespace Ratchet.Sqlite;

/// <summary>Translates SQLite's errors into Ratchet's at the store's boundary.</summary>
internal static class SqliteErrors
{
    // Primary result codes from sqlite3.h.
    private const int SqliteError = 1;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteConstraint = 19;
    private const int SqliteNotADatabase = 26;

    /// <summary>SQLITE_CONSTRAINT_FOREIGNKEY: a row names a workflow that does not exist.</summary>
    public const int ForeignKeyViolation = 787;

    public static bool IsConstraint(SqliteException exception) => exception.SqliteErrorCode == SqliteConstraint;

    public static bool IsForeignKey(SqliteException exception) => exception.SqliteExtendedErrorCode == ForeignKeyViolation;

    /// <summary>Maps any exception met while talking to SQLite to a <see cref="RatchetException"/>; Ratchet's own pass through.</summary>
    public static Exception Translate(Exception exception, string path)
    {
        if (exception is RatchetException or ArgumentException or OperationCanceledException or ObjectDisposedException)
        {
            return exception;
        }

        if (exception is not SqliteException sqlite)
        {
            return exception is IOException or UnauthorizedAccessException
                ? new StoreUnavailableException($"The SQLite store '{path}' cannot be used: {exception.Message} Check the path and its permissions.", exception)
                : new StoreOperationException($"The SQLite store '{path}' failed: {exception.Message}", exception);
        }

        return sqlite.SqliteErrorCode switch
        {
            SqliteBusy or SqliteLocked => new StoreUnavailableException(
                $"The SQLite store '{path}' stayed locked by another connection past the busy timeout. Try again, or raise the busy timeout.", sqlite),
            SqliteCorrupt or SqliteNotADatabase => new StoreCorruptException(
                $"'{path}' is not a Ratchet store or is damaged ({sqlite.Message.TrimEnd('.')}). Nothing was written; restore it from a backup or point the store elsewhere.", sqlite),
            SqliteCantOpen => new StoreUnavailableException(
                $"The SQLite store '{path}' cannot be opened: check that its folder exists and is writable.", sqlite),
            SqliteReadOnly => new StoreUnavailableException(
                $"The SQLite store '{path}' is read-only: check the file's permissions and the disk.", sqlite),
            SqliteFull => new StoreUnavailableException(
                $"The disk holding the SQLite store '{path}' is full. Free space and try again; nothing was committed.", sqlite),
            SqliteIoError => new StoreUnavailableException(
                $"The SQLite store '{path}' hit an I/O error ({sqlite.Message.TrimEnd('.')}). Check the disk; nothing was committed.", sqlite),
            SqliteError when sqlite.Message.Contains("no such table", StringComparison.OrdinalIgnoreCase) => new StoreSchemaException(
                $"The SQLite store '{path}' lacks Ratchet's tables ({sqlite.Message.TrimEnd('.')}); it was migrated down or is not a Ratchet store. Open it with Ratchet to migrate it up."),
            _ => new StoreOperationException($"The SQLite store '{path}' failed: {sqlite.Message}", sqlite),
        };
    }
}
