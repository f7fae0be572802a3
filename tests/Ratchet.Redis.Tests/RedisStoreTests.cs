using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Storage;

namespace Ratchet.Redis.Tests;

/// <summary>What only the Redis store does: its schema key, the persistence check, connection failures, wake-ups, URIs.</summary>
public sealed class RedisStoreTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(TestClock.Start);
    private readonly List<string> _prefixes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Deletes the keys of every prefix a test used, stores refused at open included.</summary>
    public async Task DisposeAsync()
    {
        if (_prefixes.Count == 0)
        {
            return;
        }

        using var admin = await AdminAsync();
        var database = RedisStoreOptions.FromUri(RedisStoreFactory.Server).Database;
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        foreach (var prefix in _prefixes)
        {
            var keys = server.Keys(database, prefix + "*").ToArray();
            if (keys.Length > 0)
            {
                await admin.GetDatabase(database).KeyDeleteAsync(keys);
            }
        }
    }

    private string NewPrefix()
    {
        var prefix = RedisStoreFactory.NewPrefix();
        _prefixes.Add(prefix);
        return prefix;
    }

    [StoreFact]
    public async Task OpenAsync_StoreAtSchema1_UpgradedInPlaceKeepingItsData()
    {
        var prefix = NewPrefix();
        var store = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            await store.CommitAsync(new ChangeSet().CreateWorkflow(new WorkflowRecord { Id = "wf-1", Type = "t", CreatedAt = _clock.GetUtcNow(), UpdatedAt = _clock.GetUtcNow() }));
            await SetSchemaAsync(store, prefix, "1");

            await using var reopened = await RedisStoreFactory.OpenAsync(prefix, _clock);

            using var admin = await AdminAsync();
            var schema = await admin.GetDatabase(RedisStoreOptions.FromUri(RedisStoreFactory.Server).Database).StringGetAsync(prefix + "schema");
            Assert.Equal(RedisRatchetStore.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture), schema.ToString());
            Assert.NotNull(await reopened.GetWorkflowAsync("wf-1"));
            await reopened.CommitAsync(new ChangeSet().SendSignal(new SignalRecord { WorkflowId = "wf-1", Name = "ci", SentAt = _clock.GetUtcNow() }));
            Assert.Single(await reopened.GetPendingSignalsAsync("wf-1"));
        }
        finally
        {
            await store.DeleteAllKeysAsync();
            await store.DisposeAsync();
        }
    }

    [StoreFact]
    public async Task OpenAsync_SchemaWrittenByNewerRatchet_RefusedAndLeftUntouched()
    {
        var prefix = NewPrefix();
        var store = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            await SetSchemaAsync(store, prefix, "99");

            var error = await Assert.ThrowsAsync<StoreSchemaException>(() => RedisStoreFactory.OpenAsync(prefix, _clock));

            Assert.Equal(99, error.StoreVersion);
            Assert.Equal(RedisRatchetStore.SchemaVersion, error.SupportedVersion);
            Assert.Contains("newer Ratchet", error.Message, StringComparison.Ordinal);
            Assert.Null(await store.GetWorkflowAsync("wf-1"));
            var after = await store.ExportAsync();
            Assert.True(after.IsEmpty);
        }
        finally
        {
            await store.DeleteAllKeysAsync();
            await store.DisposeAsync();
        }
    }

    [StoreFact]
    public async Task OpenAsync_SchemaKeyHoldsSomethingElse_RefusedAsCorrupt()
    {
        var prefix = NewPrefix();
        var store = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            await SetSchemaAsync(store, prefix, "not-a-version");

            await Assert.ThrowsAsync<StoreCorruptException>(() => RedisStoreFactory.OpenAsync(prefix, _clock));
        }
        finally
        {
            await store.DeleteAllKeysAsync();
            await store.DisposeAsync();
        }
    }

    [StoreFact]
    public async Task OpenAsync_ServerWithAppendfsyncAlways_NoPersistenceWarning()
    {
        await using var store = await RedisStoreFactory.OpenAsync(NewPrefix(), _clock);

        Assert.Null(store.PersistenceWarning);
    }

    [StoreFact]
    public async Task OpenAsync_ServerWithAppendfsyncEverysec_WarnsOrRefusesWhenRequired()
    {
        using var admin = await AdminAsync();
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var before = (await server.ConfigGetAsync("appendfsync")).Single().Value;
        await server.ConfigSetAsync("appendfsync", "everysec");
        try
        {
            await using var store = await RedisStoreFactory.OpenAsync(NewPrefix(), _clock);
            var error = await Assert.ThrowsAsync<StoreOperationException>(
                () => RedisStoreFactory.OpenAsync(NewPrefix(), _clock, o => o.RequireDurablePersistence = true));

            Assert.NotNull(store.PersistenceWarning);
            Assert.Contains("everysec", store.PersistenceWarning, StringComparison.Ordinal);
            Assert.Contains("appendfsync always", store.PersistenceWarning, StringComparison.Ordinal);
            Assert.Contains("RequireDurablePersistence", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await server.ConfigSetAsync("appendfsync", before);
        }
    }

    [Fact]
    public async Task OpenAsync_NothingListensOnThePort_ThrowsStoreUnavailable()
    {
        var options = RedisStoreOptions.FromUri("redis://127.0.0.1:1/0");
        options.ConnectTimeout = TimeSpan.FromSeconds(1);

        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => RedisRatchetStore.OpenAsync(options));

        Assert.True(error.IsTransient);
        Assert.Contains("redis://127.0.0.1:1/0", error.Message, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task SubscribeToWork_OtherInstanceCommitsADueWorkflow_FiresWithinASecond()
    {
        var prefix = NewPrefix();
        await using var first = await RedisStoreFactory.OpenAsync(prefix, _clock);
        await using var second = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var subscription = first.SubscribeToWork(() => fired.TrySetResult());
            var now = _clock.GetStoreNow();

            await second.CommitAsync(new ChangeSet().CreateWorkflow(new WorkflowRecord
            {
                Id = "wf-due", Type = "t", DueAt = now, CreatedAt = now, UpdatedAt = now,
            }));

            await fired.Task.WaitAsync(TimeSpan.FromSeconds(1));
        }
        finally
        {
            await first.DeleteAllKeysAsync();
        }
    }

    [StoreFact]
    public async Task SubscribeToWork_Disposed_NoLongerCalled()
    {
        var prefix = NewPrefix();
        await using var store = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            var calls = 0;
            var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var subscription = store.SubscribeToWork(() => Interlocked.Increment(ref calls));
            subscription.Dispose();
            using var still = store.SubscribeToWork(() => later.TrySetResult());
            var now = _clock.GetStoreNow();

            await store.CommitAsync(new ChangeSet().CreateWorkflow(new WorkflowRecord { Id = "wf-1", Type = "t", DueAt = now, CreatedAt = now, UpdatedAt = now }));
            await later.Task.WaitAsync(TimeSpan.FromSeconds(1));

            Assert.Equal(0, Volatile.Read(ref calls));
        }
        finally
        {
            await store.DeleteAllKeysAsync();
        }
    }

    [StoreFact]
    public async Task BackupAsync_PopulatedStore_WritesASnapshotThatImportsIdentically()
    {
        var folder = Directory.CreateTempSubdirectory("ratchet-redis-backup-").FullName;
        await using var source = await RedisStoreFactory.OpenAsync(NewPrefix(), _clock);
        await using var target = await RedisStoreFactory.OpenAsync(NewPrefix(), _clock);
        try
        {
            var now = _clock.GetStoreNow();
            await source.CommitAsync(new ChangeSet()
                .CreateWorkflow(new WorkflowRecord { Id = "wf-1", Type = "t", DueAt = now, CreatedAt = now, UpdatedAt = now })
                .AppendEvent(new AuditEvent { WorkflowId = "wf-1", Type = "created", At = now })
                .SaveValue("ns", "k", Ratchet.Serialization.RatchetJson.Parse("{\"a\":[1,2]}")));
            var path = Path.Combine(folder, "backup.json");

            await source.BackupAsync(path);

            await using (var file = File.OpenRead(path))
            {
                await target.ImportAsync(await Ratchet.Serialization.RatchetJson.ReadSnapshotAsync(file));
            }

            RecordAssert.Same(await source.ExportAsync(), await target.ExportAsync());
            await Assert.ThrowsAsync<ArgumentException>(() => source.BackupAsync(path));
        }
        finally
        {
            await source.DeleteAllKeysAsync();
            await target.DeleteAllKeysAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("redis://127.0.0.1:6380/2", "127.0.0.1:6380", 2, "ratchet:", null)]
    [InlineData("redis://:s3cret@cache.local:6379/0?prefix=app1:", "cache.local:6379", 0, "app1:", "s3cret")]
    [InlineData("redis://cache.local", "cache.local:6379", 0, "ratchet:", null)]
    [InlineData("127.0.0.1:26379", "127.0.0.1:26379", 0, "ratchet:", null)]
    [InlineData("localhost", "localhost:6379", 0, "ratchet:", null)]
    public void FromUri_ValidForms_ParsesServerDatabasePrefixAndPassword(string uri, string configuration, int database, string prefix, string? password)
    {
        var options = RedisStoreOptions.FromUri(uri);

        Assert.Equal(configuration, options.Configuration);
        Assert.Equal(database, options.Database);
        Assert.Equal(prefix, options.KeyPrefix);
        Assert.Equal(password, options.Password);
    }

    [Theory]
    [InlineData("redis://host:6379/zero", "database")]
    [InlineData("redis://host:6379/0?colour=red", "unknown parameter 'colour'")]
    [InlineData("http://host:6379", "not valid")]
    [InlineData("redis://:pw@host:6379/0?prefix=", "KeyPrefix is empty")]
    public void FromUri_InvalidForms_ThrowArgumentExceptionSayingWhatIsWrongWithoutThePassword(string uri, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => RedisStoreOptions.FromUri(uri));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw@", error.Message, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task Description_StoreWithPassword_NeverContainsIt()
    {
        await using var store = await RedisStoreFactory.OpenAsync(NewPrefix(), _clock);

        Assert.StartsWith("redis://", store.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("password", store.Description, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("redis://cache:6379/3?prefix=p%3A", RedisStoreOptions.Describe("cache:6379", 3, "p:"));
    }

    private static async Task SetSchemaAsync(RedisRatchetStore store, string prefix, string value)
    {
        Assert.NotNull(store);
        using var admin = await AdminAsync();
        await admin.GetDatabase(RedisStoreOptions.FromUri(RedisStoreFactory.Server).Database).StringSetAsync(prefix + "schema", value);
    }

    /// <summary>A plain driver connection for what the store never does: CONFIG SET, writing keys by hand.</summary>
    private static async Task<StackExchange.Redis.ConnectionMultiplexer> AdminAsync()
    {
        var options = RedisStoreOptions.FromUri(RedisStoreFactory.Server);
        var configuration = StackExchange.Redis.ConfigurationOptions.Parse(options.Configuration);
        configuration.AllowAdmin = true;
        configuration.Password = options.Password;
        return await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(configuration);
    }
}
