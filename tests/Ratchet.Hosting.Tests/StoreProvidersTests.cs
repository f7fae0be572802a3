using Ratchet.Files;
using Ratchet.Postgres;
using Ratchet.Redis;
using Ratchet.Sqlite;
using Ratchet.Yaml.Tests;

namespace Ratchet.Hosting.Tests;

/// <summary>Store URIs through the registry: every form the CLI has always taken, and what it says about the others.</summary>
public sealed class StoreProvidersTests : IDisposable
{
    private readonly Scratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData("sqlite:.ratchet/ratchet.db", "sqlite")]
    [InlineData("files:.ratchet/state", "files")]
    [InlineData("postgres://ratchet@127.0.0.1:5432/ratchet?schema=team_a", "postgres")]
    [InlineData("POSTGRESQL://ratchet@db/ratchet", "postgres")]
    [InlineData("Host=db.internal;Username=ratchet;Database=ratchet", "postgres")]
    [InlineData("redis://127.0.0.1:6379/0", "redis")]
    [InlineData("rediss://:pw@cache.internal:6380/1?prefix=a", "redis")]
    public void Parse_EveryFormTheCliTakes_FindsItsBackend(string uri, string backend)
    {
        var target = StoreProviders.Default.Parse(uri);

        Assert.Equal(backend, target.Provider.Name);
        Assert.Equal(uri, target.Uri);
    }

    [Fact]
    public void Parse_ServerStoreUris_ReadIntoTheBackendsOptions()
    {
        var postgres = Assert.IsType<PostgresStoreOptions>(StoreProviders.Default.Parse("postgres://ratchet@db:5433/work?schema=team_a").Options);
        var redis = Assert.IsType<RedisStoreOptions>(StoreProviders.Default.Parse("redis://:pw@cache:6380/2?prefix=t").Options);
        var sqlite = Assert.IsType<SqliteStoreOptions>(StoreProviders.Default.Parse("sqlite:data/x.db").Options);
        var files = Assert.IsType<FilesStoreOptions>(StoreProviders.Default.Parse("files:data/state/").Options);

        Assert.Equal("team_a", postgres.Schema);
        Assert.Equal((2, "t", "pw"), (redis.Database, redis.KeyPrefix, redis.Password));
        Assert.Equal("data/x.db", sqlite.Path);
        Assert.Equal("data/state", files.Root);
    }

    [Theory]
    [InlineData("mysql://localhost/db")]
    [InlineData("state.db")]
    [InlineData("SQLITE:state.db")]
    [InlineData("redis:127.0.0.1")]
    public void Parse_UriNoStoreReads_ListsEveryFormThatWorks(string uri)
    {
        var refused = Assert.Throws<InvalidStoreUriException>(() => StoreProviders.Default.Parse(uri));

        Assert.Equal(
            $"The store URI '{uri}' is not supported; use sqlite:PATH (e.g. sqlite:.ratchet/ratchet.db), files:FOLDER (e.g. files:.ratchet/state), " +
            "postgres://USER@HOST:PORT/DB (or an Npgsql connection string such as Host=...;Database=...) or redis://HOST:PORT/DB.",
            refused.Message);
    }

    [Theory]
    [InlineData("sqlite:", "The store URI 'sqlite:' names no file; write e.g. sqlite:.ratchet/ratchet.db.")]
    [InlineData("files:", "The store URI 'files:' names no folder; write e.g. files:.ratchet/state.")]
    [InlineData("files:/", "The store URI 'files:' names no folder; write e.g. files:.ratchet/state.")]
    public void Parse_FileStoreWithoutAPath_SaysWhatToWrite(string uri, string message)
    {
        Assert.Equal(message, Assert.Throws<InvalidStoreUriException>(() => StoreProviders.Default.Parse(uri)).Message);
    }

    [Fact]
    public void Parse_MalformedServerUri_IsNotValidAndHidesThePassword()
    {
        var refused = Assert.Throws<InvalidStoreUriException>(() => StoreProviders.Default.Parse("postgres://ratchet:hunter2@/"));

        Assert.StartsWith("The store URI 'postgres://ratchet:***@/' is not valid: ", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", refused.Message, StringComparison.Ordinal);
        Assert.Equal("postgres://ratchet:***@/", refused.Uri);
    }

    [Fact]
    public void RequireExisting_StoreNotMadeYet_IsRefusedAndNothingIsCreated()
    {
        var sqlite = StoreProviders.Default.Parse("sqlite:" + _scratch.File("missing.db"));
        var files = StoreProviders.Default.Parse("files:" + _scratch.File("missing-state"));

        Assert.Equal($"There is no SQLite store at {_scratch.File("missing.db")}; check the path (nothing was created).",
            Assert.Throws<InvalidStoreUriException>(sqlite.RequireExisting).Message);
        Assert.Equal($"There is no files store at {_scratch.File("missing-state")}; check the folder (nothing was created).",
            Assert.Throws<InvalidStoreUriException>(files.RequireExisting).Message);
        Assert.False(File.Exists(_scratch.File("missing.db")));
        Assert.False(Directory.Exists(_scratch.File("missing-state")));
    }

    [Fact]
    public void StateDirectory_FileStores_IsBesideTheStoreAndServerStoresUseDotRatchet()
    {
        Assert.Equal(_scratch.File("a"), StoreProviders.Default.Parse("sqlite:" + _scratch.File("a/x.db")).StateDirectory);
        Assert.Equal(_scratch.File("b"), StoreProviders.Default.Parse("files:" + _scratch.File("b/state")).StateDirectory);
        Assert.Equal(Path.GetFullPath(".ratchet"), StoreProviders.Default.Parse("redis://127.0.0.1:6379/0").StateDirectory);
        Assert.Equal(Path.GetFullPath(".ratchet"), RatchetFolders.For("mysql://nowhere", StoreProviders.Default).State);
    }

    [Fact]
    public async Task OpenAsync_SqliteUri_OpensTheStoreItNames()
    {
        var target = StoreProviders.Default.Parse("sqlite:" + _scratch.File("open/x.db"));

        await using var store = await target.OpenAsync(new StoreOpenSettings { LockTimeout = TimeSpan.FromSeconds(1) });

        Assert.Equal("sqlite:" + _scratch.File("open/x.db"), store.Description);
        Assert.True(File.Exists(_scratch.File("open/x.db")));
    }

    [Fact]
    public void With_ProviderOfASchemeTaken_IsRefused()
    {
        var refused = Assert.Throws<ArgumentException>(() => StoreProviders.Default.With(new SqliteStoreProvider()));

        Assert.Contains("both read 'sqlite:' URIs", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NothingGiven_UsesTheEnvironmentElseTheDefault()
    {
        var saved = Environment.GetEnvironmentVariable(StoreProviders.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(StoreProviders.EnvironmentVariable, null);
            Assert.Equal("sqlite:.ratchet/ratchet.db", StoreProviders.Resolve(null));
            Environment.SetEnvironmentVariable(StoreProviders.EnvironmentVariable, "files:elsewhere");
            Assert.Equal("files:elsewhere", StoreProviders.Resolve(""));
            Assert.Equal("sqlite:given.db", StoreProviders.Resolve("sqlite:given.db"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(StoreProviders.EnvironmentVariable, saved);
        }
    }
}
