using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Sqlite.Tests;

/// <summary>Each conformance test's SQLite store: a new database file in a new temporary directory, deleted afterwards.</summary>
/// <remarks>
/// The store runs with its shipped defaults (<c>synchronous=FULL</c>, group commit), so that the suite tests what
/// users get.
/// </remarks>
public sealed class SqliteStoreFactory : DirectoryStoreFactory
{
    /// <inheritdoc />
    public override string Name => "sqlite";

    /// <inheritdoc />
    protected override async Task<IRatchetStore> OpenStoreAsync(string directory, TimeProvider clock, CancellationToken cancellationToken) =>
        await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions
        {
            Path = Path.Combine(directory, "ratchet.db"),
            TimeProvider = clock,
        }, cancellationToken);
}
