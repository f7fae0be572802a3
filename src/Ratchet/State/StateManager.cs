using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Storage;

namespace Ratchet.State;

/// <summary>Settings of a <see cref="StateManager"/>.</summary>
public sealed record StateManagerOptions
{
    /// <summary>
    /// How long a value read or written through this manager is served from memory. Writes through the same manager
    /// are always seen at once; writes by other processes are seen once the cached entry is this old. Zero turns the
    /// cache off. Default 2 seconds.
    /// </summary>
    public TimeSpan CacheDuration { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The clock for cache ages and checkpoint names.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>
/// Key-value state of one namespace, the way agent scripts want it: save, load, delete, list, and named checkpoints
/// to restore. Values are JSON. Every write is one durable commit; reads are cached (see
/// <see cref="StateManagerOptions.CacheDuration"/>). A reserved <c>ratchet.*</c> namespace (see
/// <see cref="ReservedNamespaces"/>) can be read but not written: saves, deletes, checkpoints and restores there throw
/// <see cref="ReservedNamespaceException"/>.
/// </summary>
public sealed class StateManager
{
    private readonly IRatchetStore _store;
    private readonly StateManagerOptions _options;
    private readonly ConcurrentDictionary<string, (KeyValueEntry? Entry, long At)> _cache = new(StringComparer.Ordinal);

    /// <summary>A manager of <paramref name="namespace"/> in <paramref name="store"/>.</summary>
    public StateManager(IRatchetStore store, string @namespace = "default", StateManagerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        _store = store;
        Namespace = @namespace;
        _options = options ?? new StateManagerOptions();
    }

    /// <summary>The namespace managed.</summary>
    public string Namespace { get; }

    /// <summary>Saves <paramref name="value"/> (any JSON-serializable value) under <paramref name="key"/>.</summary>
    /// <exception cref="ReservedNamespaceException">The namespace is reserved.</exception>
    public async Task SaveAsync<T>(string key, T value, CancellationToken cancellationToken = default)
    {
        RequireWritable("save keys in it");
        var json = NodeResult.ToJson(value);
        await _store.CommitAsync(new ChangeSet().SaveValue(Namespace, key, json), cancellationToken);
        Forget(key);
    }

    /// <summary>The value under <paramref name="key"/>.</summary>
    /// <exception cref="StateKeyNotFoundException">There is none.</exception>
    public async Task<T> LoadAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var entry = await GetAsync(key, cancellationToken) ?? throw new StateKeyNotFoundException(Namespace, key);
        return entry.Value.Deserialize<T>(WorkflowJson.Options)!;
    }

    /// <summary>The value under <paramref name="key"/>, or <paramref name="defaultValue"/> if there is none.</summary>
    public async Task<T> LoadOrDefaultAsync<T>(string key, T defaultValue, CancellationToken cancellationToken = default)
    {
        var entry = await GetAsync(key, cancellationToken);
        return entry is null ? defaultValue : entry.Value.Deserialize<T>(WorkflowJson.Options)!;
    }

    /// <summary>The stored entry (value, version, time) under <paramref name="key"/>, or null.</summary>
    public async Task<KeyValueEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        KeyValueNames.Validate(Namespace, key);
        var now = _options.TimeProvider.GetTimestamp();
        if (_options.CacheDuration > TimeSpan.Zero && _cache.TryGetValue(key, out var cached) &&
            _options.TimeProvider.GetElapsedTime(cached.At, now) < _options.CacheDuration)
        {
            return cached.Entry;
        }

        var entry = await _store.GetValueAsync(Namespace, key, cancellationToken);
        if (_options.CacheDuration > TimeSpan.Zero)
        {
            _cache[key] = (entry, now);
        }

        return entry;
    }

    /// <summary>Deletes <paramref name="key"/>; false if it did not exist.</summary>
    /// <exception cref="ReservedNamespaceException">The namespace is reserved.</exception>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        RequireWritable("delete keys from it");
        KeyValueNames.Validate(Namespace, key);
        var existed = await _store.GetValueAsync(Namespace, key, cancellationToken) is not null;
        await _store.CommitAsync(new ChangeSet().DeleteValue(Namespace, key), cancellationToken);
        Forget(key);
        return existed;
    }

    /// <summary>The namespace's keys, ordered.</summary>
    public async Task<IReadOnlyList<string>> ListKeysAsync(CancellationToken cancellationToken = default) =>
        (await _store.ListValuesAsync(Namespace, cancellationToken)).Select(e => e.Key).ToArray();

    /// <summary>The namespace's entries, ordered by key.</summary>
    public Task<IReadOnlyList<KeyValueEntry>> ListAsync(CancellationToken cancellationToken = default) =>
        _store.ListValuesAsync(Namespace, cancellationToken);

    /// <summary>Copies the whole namespace under <paramref name="name"/> (default <c>auto-yyyyMMdd-HHmmss-fff</c>); returns the name.</summary>
    /// <exception cref="ReservedNamespaceException">
    /// The namespace is reserved: a copy of its records would escape their owner (a key rotation does not re-encrypt
    /// it) and could only be put back by a restore, which is refused too. Back those up with the store's export or backup.
    /// </exception>
    public async Task<string> CheckpointAsync(string? name = null, CancellationToken cancellationToken = default)
    {
        RequireWritable("make checkpoints of it");
        name ??= "auto-" + _options.TimeProvider.GetUtcNow().ToString("yyyyMMdd-HHmmss-fff", CultureInfo.InvariantCulture);
        await _store.CreateCheckpointAsync(Namespace, name, cancellationToken);
        return name;
    }

    /// <summary>The namespace's checkpoints, oldest first.</summary>
    public Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsAsync(CancellationToken cancellationToken = default) =>
        _store.ListCheckpointsAsync(Namespace, cancellationToken);

    /// <summary>Makes the namespace hold exactly the checkpoint's values.</summary>
    /// <exception cref="CheckpointNotFoundException">There is no such checkpoint.</exception>
    /// <exception cref="ReservedNamespaceException">The namespace is reserved.</exception>
    public async Task RestoreAsync(string name, CancellationToken cancellationToken = default)
    {
        RequireWritable("restore checkpoints into it");
        await _store.RestoreCheckpointAsync(Namespace, name, cancellationToken);
        _cache.Clear();
    }

    /// <summary>
    /// Deletes a checkpoint; false if there was none. Allowed in a reserved namespace too: it never touches the
    /// owner's records, and it is how copies made before such namespaces were read-only are cleaned up.
    /// </summary>
    public Task<bool> DeleteCheckpointAsync(string name, CancellationToken cancellationToken = default) =>
        _store.DeleteCheckpointAsync(Namespace, name, cancellationToken);

    /// <summary>Drops every cached value, so the next reads go to the store.</summary>
    public void InvalidateCache() => _cache.Clear();

    private void Forget(string key) => _cache.TryRemove(key, out _);

    private void RequireWritable(string operation)
    {
        if (ReservedNamespaces.IsReserved(Namespace))
        {
            throw new ReservedNamespaceException(Namespace, operation);
        }
    }
}

/// <summary>A key that holds no value.</summary>
public sealed class StateKeyNotFoundException(string @namespace, string key)
    : RatchetException($"No value is saved under key '{key}' in namespace '{@namespace}'.")
{
    /// <summary>The namespace searched.</summary>
    public string Namespace { get; } = @namespace;

    /// <summary>The key looked up.</summary>
    public string Key { get; } = key;

    /// <inheritdoc />
    public override string ErrorCode => "key-not-found";
}
