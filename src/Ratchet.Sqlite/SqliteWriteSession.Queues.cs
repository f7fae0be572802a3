using Ratchet.Queues;
using Ratchet.Serialization;

namespace Ratchet.Sqlite;

/// <summary>
/// The queue part of a claim. The writer is SQLite's only writer and runs it inside the batch's transaction, so the
/// count of a queue's slots and the leases it allows are one atomic step: no lock per queue is needed.
/// </summary>
internal sealed partial class SqliteWriteSession : IQueueClaimSession
{
    private List<WorkflowRecord> ClaimQueued(LeaseRequest request, long now, long expires)
    {
        // Every call below completes synchronously: the session runs on the writer's own thread.
        var claim = QueueClaims.ClaimAsync(this, request, now, expires, request.MaxCount);
        return claim.IsCompleted ? claim.Result : throw new InvalidOperationException("A SQLite queue claim did not complete synchronously.");
    }

    /// <summary>Whether a claim of one workflow may lease it: always, unless it is in a queue that has no room for it.</summary>
    private bool AdmitsOne(string id, string owner, long now)
    {
        var row = Prepared($"""
            SELECT queue, queue_partition FROM workflows
            WHERE id = $id AND queue IS NOT NULL AND status NOT IN {TerminalStatuses}
              AND (lease_owner IS NULL OR lease_expires_at <= $now);
            """).Bind("$id", id).Bind("$now", now);
        string queue;
        string? partition;
        using (var rows = row.Query())
        {
            if (!rows.Read())
            {
                return true;
            }

            queue = row.GetString(0);
            partition = row.IsNull(1) ? null : row.GetString(1);
        }

        var admits = QueueClaims.AdmitsAsync(this, queue, partition, owner, now);
        if (!admits.IsCompleted || !admits.Result)
        {
            return false;
        }

        var started = QueueClaims.StartedAsync(this, queue, now);
        return started.IsCompleted;
    }

    private static string TypesJson(IReadOnlyList<string>? types) =>
        System.Text.Json.JsonSerializer.Serialize(types, RatchetJsonContext.Default.IReadOnlyListString);

    ValueTask<IReadOnlyList<string>> IQueueClaimSession.DueQueuesAsync(long nowMicros, IReadOnlyList<string>? types)
    {
        var typed = types is { Count: > 0 };
        var select = Prepared($"""
            SELECT DISTINCT queue FROM workflows INDEXED BY ix_workflows_queue_due
            WHERE queue IS NOT NULL AND due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $now
              AND status NOT IN {TerminalStatuses} AND (lease_owner IS NULL OR lease_expires_at <= $now)
              {(typed ? "AND type IN (SELECT value FROM json_each($types))" : "")};
            """).Bind("$now", nowMicros);
        if (typed)
        {
            select.Bind("$types", TypesJson(types));
        }

        return new(Strings(select));
    }

    ValueTask IQueueClaimSession.LockQueueAsync(string queue) => ValueTask.CompletedTask;

    ValueTask<QueueDefinition?> IQueueClaimSession.ReadQueueAsync(string queue)
    {
        var text = (string?)Prepared("SELECT value FROM kv WHERE namespace = $ns AND key = $key;")
            .Bind("$ns", QueueCatalog.Namespace).Bind("$key", queue).Scalar();
        return new(text is null ? null : QueueJsonContext.Read(queue, RatchetJson.ParseDocument(text)));
    }

    ValueTask<IReadOnlyList<QueueHolder>> IQueueClaimSession.HoldersAsync(string queue, long nowMicros)
    {
        var select = Prepared($"""
            SELECT queue_partition, lease_owner FROM workflows INDEXED BY ix_workflows_queue_lease
            WHERE queue = $queue AND lease_owner IS NOT NULL AND lease_expires_at > $now AND status NOT IN {TerminalStatuses};
            """).Bind("$queue", queue).Bind("$now", nowMicros);
        var holders = new List<QueueHolder>();
        using var rows = select.Query();
        while (rows.Read())
        {
            holders.Add(new QueueHolder(select.IsNull(0) ? null : select.GetString(0), select.GetString(1)));
        }

        return new(holders);
    }

    ValueTask<int> IQueueClaimSession.CountStartsAsync(string queue, long sinceMicros)
    {
        Prepared("DELETE FROM queue_starts WHERE queue = $queue AND at <= $since;").Bind("$queue", queue).Bind("$since", sinceMicros).Execute();
        return new((int)(long)Prepared("SELECT COUNT(*) FROM queue_starts WHERE queue = $queue;").Bind("$queue", queue).Scalar()!);
    }

    ValueTask<IReadOnlyList<QueueCandidate>> IQueueClaimSession.CandidatesAsync(string queue, long nowMicros, IReadOnlyList<string>? types, int limit)
    {
        var typed = types is { Count: > 0 };
        var select = Prepared($"""
            SELECT id, queue_partition FROM workflows INDEXED BY ix_workflows_queue_due
            WHERE queue = $queue AND due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $now
              AND status NOT IN {TerminalStatuses} AND (lease_owner IS NULL OR lease_expires_at <= $now)
              {(typed ? "AND type IN (SELECT value FROM json_each($types))" : "")}
            ORDER BY queue_priority DESC, due_at, id
            LIMIT $limit;
            """).Bind("$queue", queue).Bind("$now", nowMicros).Bind("$limit", limit);
        if (typed)
        {
            select.Bind("$types", TypesJson(types));
        }

        var candidates = new List<QueueCandidate>();
        using var rows = select.Query();
        while (rows.Read())
        {
            candidates.Add(new QueueCandidate(select.GetString(0), select.IsNull(1) ? null : select.GetString(1)));
        }

        return new(candidates);
    }

    ValueTask<WorkflowRecord?> IQueueClaimSession.TakeAsync(string id, string owner, long nowMicros, long expiresMicros)
    {
        var taken = ReadWorkflows(Prepared($"""
            UPDATE workflows SET lease_owner = $owner, lease_expires_at = $expires, version = version + 1
            WHERE id = $id AND (lease_owner IS NULL OR lease_expires_at <= $now)
            RETURNING {WorkflowColumns};
            """).Bind("$id", id).Bind("$owner", owner).Bind("$expires", expiresMicros).Bind("$now", nowMicros));
        _cache.Forget(id);
        return new(taken.Count == 1 ? taken[0] : null);
    }

    ValueTask IQueueClaimSession.RecordStartsAsync(string queue, long atMicros, int count)
    {
        var insert = Prepared("INSERT INTO queue_starts (queue, at) VALUES ($queue, $at);");
        for (var i = 0; i < count; i++)
        {
            insert.Bind("$queue", queue).Bind("$at", atMicros).Execute();
        }

        return ValueTask.CompletedTask;
    }

    private static List<string> Strings(Statement select)
    {
        var values = new List<string>();
        using var rows = select.Query();
        while (rows.Read())
        {
            values.Add(select.GetString(0));
        }

        return values;
    }
}
