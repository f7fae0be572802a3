using Ratchet.Redis;

namespace Ratchet.Cli.Tests;

/// <summary>
/// How the Redis store's driver behaves when its server goes away and comes back: a command is answered or fails, and
/// one that failed is never sent later by the driver on its own. The server is the test's own (killed and restarted).
/// </summary>
public sealed class RedisConnectionLossTests : IDisposable
{
    private readonly RedisServer _server = RedisServer.Start();

    public void Dispose() => _server.Dispose();

    [Fact]
    public async Task CommitAsync_ServerKilledAndBackWithinTheTimeout_FailsAsUnavailableAndIsNeverSentLater()
    {
        var options = RedisStoreOptions.FromUri(_server.Uri);
        options.ConnectTimeout = TimeSpan.FromSeconds(2);
        options.OperationTimeout = TimeSpan.FromSeconds(2);
        await using var store = await RedisRatchetStore.OpenAsync(options);
        var now = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("before", now)));

        // The server is back well within the operation timeout: a driver that held the commit back to send it on
        // reconnecting would answer it late; this one has already said that it failed.
        _server.Kill();
        var during = store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("during", now)));
        _server.StartAgain();
        var refused = await Assert.ThrowsAsync<StoreUnavailableException>(() => during);

        Assert.True(refused.IsTransient);
        Assert.True(await Eventually.TrueAsync(async () => await AnswersAsync(store), seconds: 30), "the store did not reconnect to the restarted server");
        Assert.NotNull(await store.GetWorkflowAsync("before"));
        Assert.Null(await store.GetWorkflowAsync("during"));
        await store.CommitAsync(new ChangeSet().CreateWorkflow(NewWorkflow("during", now)));
        Assert.NotNull(await store.GetWorkflowAsync("during"));
    }

    private static async Task<bool> AnswersAsync(RedisRatchetStore store)
    {
        try
        {
            await store.GetWorkflowAsync("before");
            return true;
        }
        catch (StoreUnavailableException)
        {
            return false;
        }
    }

    private static WorkflowRecord NewWorkflow(string id, DateTimeOffset now) =>
        new() { Id = id, Type = "t", Status = WorkflowStatus.Pending, CreatedAt = now, UpdatedAt = now };
}
