namespace Ratchet.Sqlite;

/// <summary>Counters of a SQLite store's writer since it opened.</summary>
/// <param name="Transactions">Write transactions committed; with <c>synchronous=FULL</c>, one fsync each.</param>
/// <param name="Operations">Write operations (change sets, claims, ...) those transactions carried.</param>
public sealed record SqliteWriteStatistics(long Transactions, long Operations)
{
    /// <summary>Operations per transaction: how many callers shared each commit.</summary>
    public double OperationsPerTransaction => Transactions == 0 ? 0 : (double)Operations / Transactions;
}
