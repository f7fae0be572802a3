using Ratchet.Files;
using Ratchet.Sqlite;
using Ratchet.Storage;

namespace Ratchet.Migration.Tests;

/// <summary>Real stores for one test, each in its own temporary directory, closed and deleted at the end.</summary>
internal sealed class TestStores : IAsyncDisposable
{
    private readonly List<IRatchetStore> _stores = [];
    private readonly List<string> _directories = [];

    public async Task<IRatchetStore> SqliteAsync(TimeProvider clock) =>
        Track(await SqliteRatchetStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(NewDirectory("sqlite"), "ratchet.db"), TimeProvider = clock }));

    public async Task<IRatchetStore> FilesAsync(TimeProvider clock) =>
        Track(await FilesRatchetStore.OpenAsync(new FilesStoreOptions { Root = NewDirectory("files"), TimeProvider = clock }));

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        foreach (var directory in _directories.Where(Directory.Exists))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private IRatchetStore Track(IRatchetStore store)
    {
        _stores.Add(store);
        return store;
    }

    private string NewDirectory(string backend)
    {
        var directory = Directory.CreateTempSubdirectory($"ratchet-migration-{backend}-").FullName;
        _directories.Add(directory);
        return directory;
    }
}
