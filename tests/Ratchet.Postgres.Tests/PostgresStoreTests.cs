using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Engine;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Postgres.Tests;

/// <summary>What the PostgreSQL store adds to the contract: URIs, error translation, wake-ups, backups, the engine on it.</summary>
public sealed class PostgresStoreTests : IAsyncLifetime
{
    private readonly ScratchSchema _schema = new();
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _schema.DisposeAsync().AsTask();

    [Fact]
    public void FromUri_PostgresUriWithSchema_ParsesEverythingAndDescribesWithoutPassword()
    {
        var options = PostgresStoreOptions.FromUri("postgres://alice:s%40cret@db.example:6543/work?schema=team_a&sslmode=disable");

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
        Assert.Equal(("db.example", 6543, "alice", "s@cret", "work"), (builder.Host, builder.Port, builder.Username, builder.Password, builder.Database));
        Assert.Equal("team_a", options.Schema);
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void FromUri_PostgresqlSchemeAndConnectionString_BothAccepted()
    {
        var uri = PostgresStoreOptions.FromUri("postgresql://bob@127.0.0.1/ratchet");
        var plain = PostgresStoreOptions.FromUri("Host=127.0.0.1;Port=5432;Username=bob;Database=ratchet;Schema=other");

        Assert.Equal("ratchet", uri.Schema);
        Assert.Equal("bob", new Npgsql.NpgsqlConnectionStringBuilder(uri.ConnectionString).Username);
        Assert.Equal("other", plain.Schema);
        Assert.Equal("ratchet", new Npgsql.NpgsqlConnectionStringBuilder(plain.ConnectionString).Database);
    }

    [Theory]
    [InlineData("redis://127.0.0.1:6379", "not a PostgreSQL store")]
    [InlineData("postgres://", "not a valid PostgreSQL URI")]
    [InlineData("Host=localhost;Bogus Key=1", "not a usable Npgsql connection string")]
    [InlineData("postgres://u:hunter2@h/db?nosuchsetting=1", "nosuchsetting")]
    public void FromUri_Unusable_ThrowsArgumentExceptionSayingWhyWithoutThePassword(string text, string expected)
    {
        var refused = Assert.Throws<ArgumentException>(() => PostgresStoreOptions.FromUri(text));

        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_InvalidOptions_ListsEveryProblem()
    {
        var options = new PostgresStoreOptions { ConnectionString = "", Schema = "bad-name", MaxPoolSize = 0 };

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => PostgresRatchetStore.OpenAsync(options));

        Assert.Contains("ConnectionString is empty", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Schema 'bad-name'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("MaxPoolSize", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenAsync_NothingListensOnThePort_ThrowsTransientStoreUnavailable()
    {
        var options = PostgresStoreOptions.FromUri("postgres://ratchet:secret-pw@127.0.0.1:1/ratchet");
        options.ConnectTimeout = TimeSpan.FromSeconds(3);

        var refused = await Assert.ThrowsAsync<StoreUnavailableException>(() => PostgresRatchetStore.OpenAsync(options));

        Assert.True(refused.IsTransient);
        Assert.Contains("postgres://ratchet@127.0.0.1:1/ratchet", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-pw", refused.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<Npgsql.NpgsqlException>(refused.InnerException);
    }

    [StoreFact]
    public async Task Description_NamesUserHostDatabaseAndSchema_NeverThePassword()
    {
        await using var store = await _schema.OpenAsync(_clock);

        Assert.StartsWith("postgres://ratchet@127.0.0.1:", store.Description, StringComparison.Ordinal);
        Assert.EndsWith($"?schema={_schema.Name}", store.Description, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task CommitAsync_SchemaDroppedUnderTheStore_ThrowsStoreSchemaExceptionNotADriverError()
    {
        await using var store = await _schema.OpenAsync(_clock);
        await _schema.ExecuteAsync("DROP SCHEMA {schema} CASCADE");

        var refused = await Assert.ThrowsAsync<StoreSchemaException>(() =>
            store.CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow("wf-1", _clock.GetStoreNow()))));

        Assert.False(refused.IsTransient);
        Assert.Contains(store.Description, refused.Message, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task SubscribeToWork_AnotherStoreCommitsADueWorkflow_FiresWithinASecond()
    {
        await using var listener = await _schema.OpenAsync(_clock);
        await using var writer = await _schema.OpenAsync(_clock);
        var fired = new SemaphoreSlim(0);
        using var subscription = listener.SubscribeToWork(() => fired.Release());

        // The LISTEN connection opens in the background: commit until it hears one, each answered within a second.
        var heard = false;
        var elapsed = TimeSpan.Zero;
        for (var i = 0; i < 10 && !heard; i++)
        {
            await writer.CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow($"wf-{i}", _clock.GetStoreNow())));
            var watch = Stopwatch.StartNew();
            heard = await fired.WaitAsync(TimeSpan.FromSeconds(1));
            elapsed = watch.Elapsed;
        }

        Assert.True(heard, "No notification arrived within a second of a commit that created a due workflow.");
        Assert.True(elapsed < TimeSpan.FromSeconds(1));
    }

    [StoreFact]
    public async Task SubscribeToWork_CommitsThatMakeNothingDue_DoNotFire()
    {
        await using var listener = await _schema.OpenAsync(_clock);
        await using var writer = await _schema.OpenAsync(_clock);
        var fired = new SemaphoreSlim(0);
        using var subscription = listener.SubscribeToWork(() => fired.Release());
        var now = _clock.GetStoreNow();
        for (var i = 0; i < 10 && !await fired.WaitAsync(TimeSpan.FromMilliseconds(500)); i++)
        {
            await writer.CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow($"warm-{i}", now)));
        }

        while (await fired.WaitAsync(TimeSpan.FromMilliseconds(300)))
        {
            // Drain the warm-up notifications.
        }

        await writer.CommitAsync(new ChangeSet().CreateWorkflow(Records.Workflow("later", now, due: now.AddHours(1))));
        var leased = Records.Workflow("leased", now) with { LeaseOwner = "worker-1", LeaseExpiresAt = now.AddMinutes(5) };
        await writer.CommitAsync(new ChangeSet().CreateWorkflow(leased));

        Assert.False(await fired.WaitAsync(TimeSpan.FromMilliseconds(500)));
    }

    [StoreFact]
    public async Task BackupAsync_WritesTheExportThatImportsIdentically_AndNeverOverwrites()
    {
        await using var store = await _schema.OpenAsync(_clock);
        var now = _clock.GetStoreNow();
        await store.CommitAsync(new ChangeSet()
            .CreateWorkflow(SampleRecords.RichWorkflow("wf-rich", now))
            .AppendStep(SampleRecords.RichStep("wf-rich", now))
            .AppendEvent(SampleRecords.RichEvent("wf-rich", now))
            .SaveValue("ns", "key", SampleRecords.Tricky));
        var folder = Directory.CreateTempSubdirectory("ratchet-pg-backup-").FullName;
        try
        {
            var path = Path.Combine(folder, "backup.json");

            await store.BackupAsync(path);

            StoreSnapshot restored;
            await using (var file = File.OpenRead(path))
            {
                restored = await RatchetJson.ReadSnapshotAsync(file);
            }

            await using var target = new ScratchSchema();
            await using var targetStore = await target.OpenAsync(_clock);
            await targetStore.ImportAsync(restored);
            Assert.Equal(await ExportTextAsync(store), await ExportTextAsync(targetStore));
            await Assert.ThrowsAsync<ArgumentException>(() => store.BackupAsync(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [StoreFact]
    public async Task BuildAsync_UsePostgresWithUseClock_RunsAWorkflowToCompletionOnTheEngineClock()
    {
        // RunUntilIdleAsync sees the work done at its next poll, a timer: it runs in real time on this still clock.
        var clock = new FakeTimeProviderWithSystemTimers(new DateTimeOffset(2030, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var definition = new WorkflowBuilder("two-steps")
            .Node("A", static (_, _) => Task.FromResult(NodeResult.Success(new { greeting = "hello" })))
            .Then("B")
            .Node("B", static (_, _) => Task.FromResult(NodeResult.Success()))
            .Build();
        await using var engine = await new RatchetBuilder()
            .UsePostgres(PostgresStoreFactory.ConnectionString, o => o.Schema = _schema.Name)
            .AddWorkflow(definition)
            .UseClock(clock)
            .Configure(o => o.PollInterval = TimeSpan.FromMilliseconds(20))
            .BuildAsync();
        var started = await engine.StartAsync("two-steps");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await engine.CreateRunner().RunUntilIdleAsync(timeout.Token);

        var workflow = await engine.Store.GetWorkflowAsync(started.Id, timeout.Token);
        Assert.IsType<PostgresRatchetStore>(engine.Store);
        Assert.Equal(WorkflowStatus.Completed, workflow!.Status);
        Assert.Equal(clock.GetUtcNow(), workflow.CompletedAt);
        Assert.Equal("hello", workflow.Artifacts["A"].GetProperty("greeting").GetString());
        Assert.Equal(["A", "B"], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Node));
        Assert.Equal([1L, 2L], (await engine.Store.GetStepsAsync(started.Id, timeout.Token)).Select(s => s.Sequence));
    }

    private static async Task<string> ExportTextAsync(IRatchetStore store)
    {
        using var stream = new MemoryStream();
        await RatchetJson.WriteSnapshotAsync(stream, await store.ExportAsync());
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
