using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using Ratchet.Conformance;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Redis.Tests;

/// <summary>
/// Two store instances on one prefix, each with its own connection, as two worker processes have: the checks inside
/// the scripts keep them from losing updates or sharing a lease.
/// </summary>
public sealed class SharedStoreTests
{
    private readonly FakeTimeProvider _clock = new(TestClock.Start);

    [StoreFact]
    public async Task TransactionAsync_WritersOnTwoConnections_NoLostUpdate()
    {
        var prefix = RedisStoreFactory.NewPrefix();
        await using var first = await RedisStoreFactory.OpenAsync(prefix, _clock);
        await using var second = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            const int WritersPerStore = 4;
            const int Increments = 150;
            var writers = new[] { first, second }
                .SelectMany(store => Enumerable.Range(0, WritersPerStore).Select(_ => Task.Run(async () =>
                {
                    for (var i = 0; i < Increments; i++)
                    {
                        await store.TransactionAsync(async (tx, ct) =>
                        {
                            var counter = await tx.GetValueAsync("shared", "counter", ct);
                            var next = (counter?.Value.GetInt64() ?? 0) + 1;
                            tx.SaveValue("shared", "counter", RatchetJson.Parse(next.ToString(CultureInfo.InvariantCulture)));
                        }, new TransactionOptions { MaxAttempts = 1_000_000 });
                    }
                })))
                .ToArray();

            await Task.WhenAll(writers).WaitAsync(TimeSpan.FromMinutes(2));

            var entry = await first.GetValueAsync("shared", "counter");
            Assert.Equal(2 * WritersPerStore * Increments, entry?.Value.GetInt64());
            Assert.Equal(2 * WritersPerStore * Increments, entry?.Version);
        }
        finally
        {
            await first.DeleteAllKeysAsync();
        }
    }

    [StoreFact]
    public async Task ClaimDueWorkflowsAsync_OwnersOnTwoConnections_NeverShareAWorkflow()
    {
        var prefix = RedisStoreFactory.NewPrefix();
        await using var first = await RedisStoreFactory.OpenAsync(prefix, _clock);
        await using var second = await RedisStoreFactory.OpenAsync(prefix, _clock);
        try
        {
            var now = _clock.GetStoreNow();
            var changes = new ChangeSet();
            for (var i = 0; i < 200; i++)
            {
                changes.CreateWorkflow(new WorkflowRecord { Id = $"wf-{i:D3}", Type = "t", DueAt = now, CreatedAt = now, UpdatedAt = now });
            }

            await first.CommitAsync(changes);
            var claims = new[] { first, second }
                .SelectMany((store, s) => Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
                {
                    var mine = new List<string>();
                    var owner = $"worker-{s}-{w}";
                    while (true)
                    {
                        var batch = await store.ClaimDueWorkflowsAsync(new LeaseRequest { Owner = owner, Duration = TimeSpan.FromMinutes(1), MaxCount = 7 });
                        if (batch.Count == 0)
                        {
                            return mine;
                        }

                        Assert.All(batch, w => Assert.Equal(owner, w.LeaseOwner));
                        mine.AddRange(batch.Select(w => w.Id));
                    }
                })))
                .ToArray();

            var results = await Task.WhenAll(claims).WaitAsync(TimeSpan.FromMinutes(1));

            var all = results.SelectMany(r => r).ToList();
            Assert.Equal(200, all.Count);
            Assert.Equal(200, all.Distinct(StringComparer.Ordinal).Count());
        }
        finally
        {
            await first.DeleteAllKeysAsync();
        }
    }
}
