using System.Collections.Concurrent;
using Ratchet.Storage;

namespace Ratchet.Conformance;

/// <summary>
/// What a backend gives the conformance suite: a fresh, empty store for one test, and a way to drop it afterwards.
/// Each backend's test project subclasses this once (with a public parameterless constructor) and names it in its
/// subclasses of the conformance classes.
/// </summary>
/// <remarks>
/// A factory that cannot provide a store (its server is not configured or does not answer) throws
/// <see cref="TestEnvironment.Unavailable"/>'s exception: a skip with the reason outside CI, a failure in CI.
/// A factory instance serves one test-class instance, that is one test; it may still be asked for several stores
/// (export from one, import into another).
/// </remarks>
public abstract class StoreFactory
{
    /// <summary>The backend's name for messages, such as <c>sqlite</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Creates a new, empty store whose only clock is <paramref name="clock"/>.</summary>
    public abstract Task<IRatchetStore> CreateStoreAsync(TimeProvider clock, CancellationToken cancellationToken = default);

    /// <summary>Disposes a store this factory created and deletes everything it held (files, schema, keys).</summary>
    public virtual async Task DropStoreAsync(IRatchetStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await store.DisposeAsync();
    }

    /// <summary>
    /// Disposes <paramref name="store"/> without deleting its data and opens the same data again, as a restarted
    /// process would. The returned store replaces <paramref name="store"/> (drop it, not the old one).
    /// </summary>
    /// <exception cref="StoreSkippedException">The backend cannot reopen a store (the default): the test is skipped with that reason.</exception>
    public virtual Task<IRatchetStore> ReopenStoreAsync(IRatchetStore store, TimeProvider clock, CancellationToken cancellationToken = default) =>
        throw new StoreSkippedException($"The {Name} test factory cannot reopen a store, so durability across a restart is not tested for it.");
}

/// <summary>
/// A <see cref="StoreFactory"/> for stores that live in a directory: each store gets a new temporary directory,
/// deleted when the store is dropped.
/// </summary>
public abstract class DirectoryStoreFactory : StoreFactory
{
    private readonly ConcurrentDictionary<IRatchetStore, string> _directories = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc />
    public sealed override async Task<IRatchetStore> CreateStoreAsync(TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(clock);
        var directory = Directory.CreateTempSubdirectory($"ratchet-{Name}-").FullName;
        try
        {
            var store = await OpenStoreAsync(directory, clock, cancellationToken);
            _directories[store] = directory;
            return store;
        }
        catch
        {
            DeleteDirectory(directory);
            throw;
        }
    }

    /// <inheritdoc />
    public sealed override async Task DropStoreAsync(IRatchetStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        await store.DisposeAsync();
        if (_directories.TryRemove(store, out var directory))
        {
            DeleteDirectory(directory);
        }
    }

    /// <inheritdoc />
    public sealed override async Task<IRatchetStore> ReopenStoreAsync(IRatchetStore store, TimeProvider clock, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!_directories.TryRemove(store, out var directory))
        {
            throw new ArgumentException("This factory did not create that store, or it was dropped.", nameof(store));
        }

        await store.DisposeAsync();
        try
        {
            var reopened = await OpenStoreAsync(directory, clock, cancellationToken);
            _directories[reopened] = directory;
            return reopened;
        }
        catch
        {
            DeleteDirectory(directory);
            throw;
        }
    }

    /// <summary>Opens the store kept in <paramref name="directory"/>: empty the first time, then as left by the last one.</summary>
    protected abstract Task<IRatchetStore> OpenStoreAsync(string directory, TimeProvider clock, CancellationToken cancellationToken);

    private static void DeleteDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
