using System.Threading.Channels;
using Npgsql;
using Ratchet.Serialization;

namespace Ratchet.Postgres;

/// <summary>
/// Group commit for node commits (see <see cref="PostgresStoreOptions.MaxCommitBatch"/>). Up to
/// <see cref="Writers"/> batches are written at once, each on its own connection; commits that arrive while every
/// writer is busy wait and go together into the next batch, as one statement in one transaction.
/// </summary>
/// <remarks>
/// The merged statement updates each workflow only where its stored version is the expected one and appends steps
/// and events only for the workflows it updated, so a stale commit changes nothing and does not fail the others. Each
/// commit the batch did not apply is then written on its own through the ordinary path, which raises the refusal the
/// contract names (a conflict with the stored version, or a missing workflow). If the batch fails as a whole (the
/// server, the connection), it was rolled back whole and every commit in it is written on its own too.
/// </remarks>
internal sealed class PostgresCommitBatcher : IAsyncDisposable
{
    /// <summary>Batches written at once: enough to overlap one batch's WAL flush with the next one's execution.</summary>
    public const int Writers = 4;

    private const string Sql =
        "WITH x AS (SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bool[], $5::text[], $6::text[], $7::text[], $8::text[], " +
        "$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int[], $16::bigint[], $17::text[], $18::text[], " +
        "$19::bigint[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[], $24::bigint[]) " +
        "AS x(item, id, version, release, type, definition_version, status, wait_reason, wait_detail, current_node, input, artifacts, " +
        "metadata, parent_id, attempt, due_at, error, trace_parent, created_at, updated_at, completed_at, archived_at, steps, events)), " +
        "u AS (UPDATE workflows w SET type = x.type, definition_version = x.definition_version, status = x.status, " +
        "wait_reason = x.wait_reason, wait_detail = x.wait_detail, current_node = x.current_node, input = x.input, artifacts = x.artifacts, " +
        "metadata = x.metadata, parent_id = x.parent_id, attempt = x.attempt, due_at = x.due_at, error = x.error, " +
        "trace_parent = x.trace_parent, created_at = x.created_at, updated_at = x.updated_at, completed_at = x.completed_at, " +
        "archived_at = x.archived_at, version = w.version + 1, step_seq = w.step_seq + x.steps, event_seq = w.event_seq + x.events, " +
        "lease_owner = CASE WHEN x.release THEN NULL ELSE w.lease_owner END, " +
        "lease_expires_at = CASE WHEN x.release THEN NULL ELSE w.lease_expires_at END " +
        "FROM x WHERE w.id = x.id AND w.version = x.version " +
        "RETURNING x.item, w.id, w.step_seq - x.steps AS step_base, w.event_seq - x.events AS event_base), " +
        "s AS (INSERT INTO steps (" + StepColumns + ") " +
        "SELECT u.id, u.step_base + y.k, y.node, y.attempt, y.outcome, y.output, y.error, y.started_at, y.finished_at " +
        "FROM unnest($25::int[], $26::int[], $27::text[], $28::int[], $29::text[], $30::text[], $31::text[], $32::bigint[], $33::bigint[]) " +
        "AS y(item, k, node, attempt, outcome, output, error, started_at, finished_at) JOIN u ON u.item = y.item), " +
        "e AS (INSERT INTO events (" + EventColumns + ") " +
        "SELECT u.id, u.event_base + z.k, z.type, z.node, z.attempt, z.payload, z.at " +
        "FROM unnest($34::int[], $35::int[], $36::text[], $37::text[], $38::int[], $39::text[], $40::bigint[]) " +
        "AS z(item, k, type, node, attempt, payload, at) JOIN u ON u.item = z.item) " +
        "SELECT item FROM u";

    // Not SingleReader: only the multi-reader channel can count what waits, which the fast path looks at.
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false });
    private readonly SemaphoreSlim _writers = new(Writers, Writers);
    private readonly Func<ChangeSet, Task> _commitAlone;
    private readonly Func<Func<NpgsqlConnection, CancellationToken, Task<HashSet<int>>>, Task<HashSet<int>>> _run;
    private readonly int _maxBatch;
    private readonly Task _loop;

    /// <param name="commitAlone">Writes one change set by the ordinary path (one batch, refusals translated).</param>
    /// <param name="run">Runs an operation on a pooled connection with the store's retries and error translation.</param>
    /// <param name="maxBatch">The most commits in one batch.</param>
    public PostgresCommitBatcher(Func<ChangeSet, Task> commitAlone, Func<Func<NpgsqlConnection, CancellationToken, Task<HashSet<int>>>, Task<HashSet<int>>> run, int maxBatch)
    {
        _commitAlone = commitAlone;
        _run = run;
        _maxBatch = maxBatch;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Whether <paramref name="changes"/> can be merged: a node commit without commands.</summary>
    public static bool CanMerge(ChangeSet changes) => changes.Commands.Count == 0 && PostgresCommit.IsNodeCommit(changes);

    /// <summary>Writes <paramref name="changes"/> in the next batch; completes once it is committed or refused.</summary>
    public async Task CommitAsync(ChangeSet changes)
    {
        // A writer free and nobody waiting: write at once, sparing a lone commit the hand-over to the loop.
        if (_queue.Reader.Count == 0 && _writers.Wait(0))
        {
            try
            {
                await _commitAlone(changes);
                return;
            }
            finally
            {
                _writers.Release();
            }
        }

        var pending = new Pending(changes);
        if (!_queue.Writer.TryWrite(pending))
        {
            await _commitAlone(changes);
            return;
        }

        await pending.Done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        for (var i = 0; i < Writers; i++)
        {
            await _writers.WaitAsync().ConfigureAwait(false);
        }

        _writers.Dispose();
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await _writers.WaitAsync().ConfigureAwait(false);
            var batch = new List<Pending>();
            var ids = new HashSet<string>(StringComparer.Ordinal);
            while (batch.Count < _maxBatch && reader.TryRead(out var pending))
            {
                if (ids.Add(pending.Changes.Workflows[0].Record.Id))
                {
                    batch.Add(pending);
                }
                else
                {
                    // Two commits for one workflow cannot share a statement (a row is updated once per statement);
                    // at most one of them can hold the expected version, and the ordinary path says which.
                    _ = AloneAsync(pending);
                }
            }

            _ = WriteAsync(batch);
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            if (batch.Count == 1)
            {
                await AloneAsync(batch[0]);
                return;
            }

            HashSet<int> applied;
            try
            {
                applied = await _run((connection, token) => ExecuteAsync(connection, batch, token));
            }
            catch (Exception)
            {
                // Rolled back whole (or never sent): each commit is written on its own, which reports its own outcome
                // to its own caller, so nothing is lost by not rethrowing here.
                applied = [];
            }

            var alone = new List<Task>();
            for (var i = 0; i < batch.Count; i++)
            {
                if (applied.Contains(i))
                {
                    batch[i].Done.TrySetResult();
                }
                else
                {
                    alone.Add(AloneAsync(batch[i]));
                }
            }

            await Task.WhenAll(alone);
        }
        finally
        {
            _writers.Release();
        }
    }

    private async Task AloneAsync(Pending pending)
    {
        try
        {
            await _commitAlone(pending.Changes);
            pending.Done.TrySetResult();
        }
        catch (Exception ex)
        {
            pending.Done.TrySetException(ex);
        }
    }

    private static async Task<HashSet<int>> ExecuteAsync(NpgsqlConnection connection, List<Pending> batch, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection);
        var p = command.Parameters;
        var records = batch.Select(b => (Write: b.Changes.Workflows[0], b.Changes)).ToArray();
        p.Add(IntegerArray(Enumerable.Range(0, batch.Count).Select(i => (int?)i)));
        p.Add(TextArray(records.Select(r => (string?)r.Write.Record.Id)));
        p.Add(BigintArray(records.Select(r => r.Write.Record.Version)));
        p.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Boolean, Value = records.Select(r => r.Write.Lease == LeaseAction.Release).ToArray() });
        p.Add(TextArray(records.Select(r => (string?)r.Write.Record.Type)));
        p.Add(TextArray(records.Select(r => (string?)r.Write.Record.DefinitionVersion)));
        p.Add(TextArray(records.Select(r => (string?)Name(r.Write.Record.Status))));
        p.Add(TextArray(records.Select(r => (string?)Name(r.Write.Record.WaitReason))));
        p.Add(TextArray(records.Select(r => r.Write.Record.WaitDetail)));
        p.Add(TextArray(records.Select(r => r.Write.Record.CurrentNode)));
        p.Add(TextArray(records.Select(r => RatchetJson.ToText(r.Write.Record.Input))));
        p.Add(TextArray(records.Select(r => (string?)RatchetJson.MapToText(r.Write.Record.Artifacts))));
        p.Add(TextArray(records.Select(r => RatchetJson.ToText(r.Write.Record.Metadata))));
        p.Add(TextArray(records.Select(r => r.Write.Record.ParentId)));
        p.Add(IntegerArray(records.Select(r => (int?)r.Write.Record.Attempt)));
        p.Add(NullableBigintArray(records.Select(r => Micros(r.Write.Record.DueAt))));
        p.Add(TextArray(records.Select(r => RatchetJson.ErrorToText(r.Write.Record.Error))));
        p.Add(TextArray(records.Select(r => r.Write.Record.TraceParent)));
        p.Add(BigintArray(records.Select(r => StoreTime.ToMicroseconds(r.Write.Record.CreatedAt))));
        p.Add(BigintArray(records.Select(r => StoreTime.ToMicroseconds(r.Write.Record.UpdatedAt))));
        p.Add(NullableBigintArray(records.Select(r => Micros(r.Write.Record.CompletedAt))));
        p.Add(NullableBigintArray(records.Select(r => Micros(r.Write.Record.ArchivedAt))));
        p.Add(BigintArray(records.Select(r => (long)r.Changes.Steps.Count)));
        p.Add(BigintArray(records.Select(r => (long)r.Changes.Events.Count)));

        var steps = records.SelectMany((r, item) => r.Changes.Steps.Select((s, k) => (Item: item, K: k + 1, Step: s))).ToArray();
        p.Add(IntegerArray(steps.Select(s => (int?)s.Item)));
        p.Add(IntegerArray(steps.Select(s => (int?)s.K)));
        p.Add(TextArray(steps.Select(s => (string?)s.Step.Node)));
        p.Add(IntegerArray(steps.Select(s => (int?)s.Step.Attempt)));
        p.Add(TextArray(steps.Select(s => (string?)Name(s.Step.Outcome))));
        p.Add(TextArray(steps.Select(s => RatchetJson.ToText(s.Step.Output))));
        p.Add(TextArray(steps.Select(s => RatchetJson.ErrorToText(s.Step.Error))));
        p.Add(BigintArray(steps.Select(s => StoreTime.ToMicroseconds(s.Step.StartedAt))));
        p.Add(BigintArray(steps.Select(s => StoreTime.ToMicroseconds(s.Step.FinishedAt))));

        var events = records.SelectMany((r, item) => r.Changes.Events.Select((e, k) => (Item: item, K: k + 1, Event: e))).ToArray();
        p.Add(IntegerArray(events.Select(e => (int?)e.Item)));
        p.Add(IntegerArray(events.Select(e => (int?)e.K)));
        p.Add(TextArray(events.Select(e => (string?)e.Event.Type)));
        p.Add(TextArray(events.Select(e => e.Event.Node)));
        p.Add(IntegerArray(events.Select(e => e.Event.Attempt)));
        p.Add(TextArray(events.Select(e => RatchetJson.ToText(e.Event.Payload))));
        p.Add(BigintArray(events.Select(e => StoreTime.ToMicroseconds(e.Event.At))));

        var applied = new HashSet<int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(reader.GetInt32(0));
        }

        return applied;
    }

    private static long? Micros(DateTimeOffset? time) => time is { } t ? StoreTime.ToMicroseconds(t) : null;

    private static NpgsqlParameter NullableBigintArray(IEnumerable<long?> values) =>
        new() { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bigint, Value = values.ToArray() };

    private sealed record Pending(ChangeSet Changes)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
