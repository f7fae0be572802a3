using Npgsql;
using Ratchet.Queues;
using Ratchet.Serialization;

namespace Ratchet.Postgres;

/// <summary>
/// The queue part of a claim. Several processes claim at once, so each claim of a queue runs in a transaction that
/// first takes an advisory lock named after the store's schema and the queue: counting the queue's slots and leasing
/// the free ones is then one step that no other claim of the queue interleaves with. Commits need no lock: they only
/// ever free slots (a release, an end), and a lease that lapses frees its slot by time.
/// </summary>
public sealed partial class PostgresRatchetStore
{
    private const string QueuesDueSql = $"""
        SELECT EXISTS (SELECT 1 FROM workflows
            WHERE queue IS NOT NULL AND due_at IS NOT NULL AND archived_at IS NULL AND due_at <= $1
              AND status NOT IN {TerminalStatuses} AND (lease_owner IS NULL OR lease_expires_at <= $1))
        """;

    private async Task<List<WorkflowRecord>> ClaimQueuedAsync(NpgsqlConnection connection, LeaseRequest request, DateTimeOffset now, int room, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var session = new QueueSession(connection, Schema, cancellationToken);
        var claimed = await QueueClaims.ClaimAsync(session, request, StoreTime.ToMicroseconds(now), StoreTime.ToMicroseconds(now + request.Duration), room);
        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    private async Task<WorkflowRecord?> ClaimQueuedOneAsync(
        NpgsqlConnection connection, string workflowId, string queue, string? partition, string owner, DateTimeOffset now, DateTimeOffset expires, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var session = new QueueSession(connection, Schema, cancellationToken);
        var nowMicros = StoreTime.ToMicroseconds(now);
        if (!await QueueClaims.AdmitsAsync(session, queue, partition, owner, nowMicros) ||
            await ((IQueueClaimSession)session).TakeAsync(workflowId, owner, nowMicros, StoreTime.ToMicroseconds(expires)) is not { } taken)
        {
            return null;
        }

        await QueueClaims.StartedAsync(session, queue, nowMicros);
        await transaction.CommitAsync(cancellationToken);
        return taken;
    }

    private sealed class QueueSession(NpgsqlConnection connection, string schema, CancellationToken cancellationToken) : IQueueClaimSession
    {
        /// <summary>The claim's conditions, with the time in parameter <paramref name="now"/>.</summary>
        private static string Claimable(string now) =>
            $"due_at IS NOT NULL AND archived_at IS NULL AND due_at <= {now} AND status NOT IN {TerminalStatuses} AND (lease_owner IS NULL OR lease_expires_at <= {now})";

        private QueueDefinition? _definition;
        private string? _definitionOf;

        public async ValueTask<IReadOnlyList<string>> DueQueuesAsync(long nowMicros, IReadOnlyList<string>? types)
        {
            var typed = types is { Count: > 0 };
            await using var command = Command($"""
                SELECT DISTINCT queue FROM workflows
                WHERE queue IS NOT NULL AND {Claimable("$1")} {(typed ? "AND type = ANY($2)" : "")}
                """, Bigint(nowMicros));
            if (typed)
            {
                command.Parameters.Add(TextArray([.. types!]));
            }

            return await ReadAsync(command, static r => r.GetString(0));
        }

        public async ValueTask LockQueueAsync(string queue)
        {
            await using var command = Command("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", Text($"ratchet-queue:{schema}\u001f{queue}"));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public async ValueTask<QueueDefinition?> ReadQueueAsync(string queue)
        {
            if (_definitionOf != queue)
            {
                await using var command = Command("SELECT value FROM kv WHERE namespace = $1 AND key = $2", Text(QueueCatalog.Namespace), Text(queue));
                var text = await command.ExecuteScalarAsync(cancellationToken) as string;
                _definition = text is null ? null : QueueJsonContext.Read(queue, RatchetJson.ParseDocument(text));
                _definitionOf = queue;
            }

            return _definition;
        }

        public async ValueTask<IReadOnlyList<QueueHolder>> HoldersAsync(string queue, long nowMicros)
        {
            await using var command = Command($"""
                SELECT queue_partition, lease_owner FROM workflows
                WHERE queue = $1 AND lease_owner IS NOT NULL AND lease_expires_at > $2 AND status NOT IN {TerminalStatuses}
                """, Text(queue), Bigint(nowMicros));
            return await ReadAsync(command, static r => new QueueHolder(r.IsDBNull(0) ? null : r.GetString(0), r.GetString(1)));
        }

        public async ValueTask<int> CountStartsAsync(string queue, long sinceMicros)
        {
            await using var prune = Command("DELETE FROM queue_starts WHERE queue = $1 AND at <= $2", Text(queue), Bigint(sinceMicros));
            await prune.ExecuteNonQueryAsync(cancellationToken);
            await using var count = Command("SELECT count(*) FROM queue_starts WHERE queue = $1", Text(queue));
            return (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        public async ValueTask<IReadOnlyList<QueueCandidate>> CandidatesAsync(string queue, long nowMicros, IReadOnlyList<string>? types, int limit)
        {
            var typed = types is { Count: > 0 };
            await using var command = Command($"""
                SELECT id, queue_partition FROM workflows
                WHERE queue = $1 AND {Claimable("$2")} {(typed ? "AND type = ANY($4)" : "")}
                ORDER BY queue_priority DESC, due_at, id
                LIMIT $3
                FOR UPDATE SKIP LOCKED
                """, Text(queue), Bigint(nowMicros), Integer(limit));
            if (typed)
            {
                command.Parameters.Add(TextArray([.. types!]));
            }

            return await ReadAsync(command, static r => new QueueCandidate(r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)));
        }

        public async ValueTask<WorkflowRecord?> TakeAsync(string id, string owner, long nowMicros, long expiresMicros)
        {
            await using var command = Command($"""
                UPDATE workflows SET lease_owner = $2, lease_expires_at = $3, version = version + 1
                WHERE id = $1 AND (lease_owner IS NULL OR lease_expires_at <= $4) AND status NOT IN {TerminalStatuses}
                RETURNING {WorkflowColumns}
                """, Text(id), Text(owner), Bigint(expiresMicros), Bigint(nowMicros));
            var taken = await ReadAsync(command, static r => ReadWorkflow(new PostgresRow(r)));
            return taken.Count == 1 ? taken[0] : null;
        }

        public async ValueTask RecordStartsAsync(string queue, long atMicros, int count)
        {
            await using var command = Command("INSERT INTO queue_starts (queue, at) SELECT $1, $2 FROM generate_series(1, $3)", Text(queue), Bigint(atMicros), Integer(count));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        private NpgsqlCommand Command(string sql, params NpgsqlParameter[] parameters)
        {
            var command = new NpgsqlCommand(sql, connection);
            command.Parameters.AddRange(parameters);
            return command;
        }

        private async Task<List<T>> ReadAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> map)
        {
            var list = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(map(reader));
            }

            return list;
        }
    }
}
