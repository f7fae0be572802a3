using Ratchet.Storage;

namespace Ratchet.Redis;

public sealed partial class RedisRatchetStore
{
    /// <summary>How many index entries one listing script examines before handing back, so no script blocks Redis long.</summary>
    private const int ListBudget = 4096;

    /// <inheritdoc />
    protected override async Task<WorkflowRecord?> GetWorkflowCoreAsync(string id, CancellationToken cancellationToken)
    {
        var fields = await _client.HashGetAllAsync(_prefix + "wf:" + id, cancellationToken).ConfigureAwait(false);
        return RedisRecords.ParseWorkflow(id, fields);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Walks the creation index from the page token's position (or the creation range's bound), checking the other
    /// filters on each workflow's hash inside a script, a bounded number of entries per call.
    /// </remarks>
    protected override async Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsCoreAsync(WorkflowQuery query, WorkflowPosition? after, CancellationToken cancellationToken)
    {
        var descending = query.Order == ListOrder.NewestFirst;
        string min = "-", max = "+";
        if (query.CreatedFrom is { } from)
        {
            min = "[" + RedisRecords.SortableMicros(StoreTime.ToMicroseconds(from));
        }

        if (query.CreatedTo is { } to)
        {
            max = "(" + RedisRecords.SortableMicros(StoreTime.ToMicroseconds(to));
        }

        if (after is var (afterCreated, afterId))
        {
            var position = RedisRecords.SortableMicros(afterCreated) + afterId;
            if (!descending && (min == "-" || string.CompareOrdinal(position, min[1..]) >= 0))
            {
                min = "(" + position;
            }
            else if (descending && (max == "+" || string.CompareOrdinal(position, max[1..]) < 0))
            {
                max = "(" + position;
            }
        }

        var statuses = query.Statuses is { Count: > 0 } s ? s.Distinct().Select(x => x.ToString()).ToList() : [];
        var types = query.Types is { Count: > 0 } t ? t.Distinct().ToList() : [];
        var onlyActive = !query.IncludeArchived && statuses.Count > 0 && query.Statuses!.All(status => !status.IsTerminal());
        var index = onlyActive ? "idx:active" : "idx:created";
        var items = new List<WorkflowRecord>(Math.Min(query.Limit + 1, 1024));
        while (items.Count <= query.Limit)
        {
            var args = new List<string>(16 + statuses.Count + types.Count)
            {
                _prefix, descending ? "d" : "a", min, max, Count(query.Limit + 1 - items.Count), Count(ListBudget),
                query.IncludeArchived ? "1" : "0", query.ParentId is null ? "0" : "1", query.ParentId ?? "",
                RedisRecords.Micros(query.UpdatedFrom), RedisRecords.Micros(query.UpdatedTo), index, Count(statuses.Count),
            };
            args.AddRange(statuses);
            args.Add(Count(types.Count));
            args.AddRange(types);
            var reply = (await EvaluateAsync(RedisScripts.List, args, cancellationToken).ConfigureAwait(false)).AsArray();
            items.AddRange(ParseRecords(reply[1]));
            var continuation = reply[0].AsText();
            if (continuation.Length == 0)
            {
                break;
            }

            if (descending)
            {
                max = "(" + continuation;
            }
            else
            {
                min = "(" + continuation;
            }
        }

        return items;
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsCoreAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken)
    {
        var reply = await EvaluateAsync(RedisScripts.Due, [_prefix, RedisRecords.Micros(asOf), Count(limit)], cancellationToken).ConfigureAwait(false);
        return ParseRecords(reply);
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<StepRecord>> GetStepsCoreAsync(string workflowId, CancellationToken cancellationToken)
    {
        var entries = await _client.SortedSetRangeByScoreAsync(_prefix + "steps:" + workflowId, double.NegativeInfinity, double.PositiveInfinity, 0, -1, cancellationToken).ConfigureAwait(false);
        return entries.Select(RedisRecords.ParseStep).ToArray();
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<AuditEvent>> GetEventsCoreAsync(string workflowId, long afterSequence, int limit, CancellationToken cancellationToken)
    {
        var entries = await _client.SortedSetRangeByScoreAsync(_prefix + "events:" + workflowId, afterSequence + 1, double.PositiveInfinity, 0,
            limit == int.MaxValue ? -1 : limit, cancellationToken).ConfigureAwait(false);
        return entries.Select(RedisRecords.ParseEvent).ToArray();
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<CommandExecution>> GetCommandsCoreAsync(string workflowId, CancellationToken cancellationToken)
    {
        var entries = await _client.SortedSetRangeByScoreAsync(_prefix + "cmds:" + workflowId, double.NegativeInfinity, double.PositiveInfinity, 0, -1, cancellationToken).ConfigureAwait(false);
        return entries.Select(RedisRecords.ParseCommand).ToArray();
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<SignalRecord>> GetPendingSignalsCoreAsync(string workflowId, CancellationToken cancellationToken)
    {
        var entries = await _client.SortedSetRangeByScoreAsync(_prefix + "sigs:" + workflowId, double.NegativeInfinity, double.PositiveInfinity, 0, -1, cancellationToken).ConfigureAwait(false);
        return entries.Select(RedisRecords.ParseSignal).ToArray();
    }

    /// <inheritdoc />
    protected override async Task<WorkspaceRecord?> GetWorkspaceCoreAsync(string workflowId, CancellationToken cancellationToken)
    {
        var json = await _client.HashGetAsync(_prefix + "ws", workflowId, cancellationToken).ConfigureAwait(false);
        return json is null ? null : RedisRecords.ParseWorkspace(json);
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default)
    {
        var all = await _client.HashGetAllAsync(_prefix + "ws", cancellationToken).ConfigureAwait(false);
        return all
            .Select(e => RedisRecords.ParseWorkspace(e.Value))
            .Where(w => status is null || w.Status == status)
            .OrderBy(w => w.WorkflowId, StringComparer.Ordinal)
            .ToArray();
    }

    /// <inheritdoc />
    protected override async Task<KeyValueEntry?> GetValueCoreAsync(string @namespace, string key, CancellationToken cancellationToken)
    {
        var stored = await _client.HashGetAsync(_prefix + "kv:" + @namespace, key, cancellationToken).ConfigureAwait(false);
        return stored is null ? null : RedisRecords.ParseValue(@namespace, key, stored);
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<KeyValueEntry>> ListValuesCoreAsync(string @namespace, CancellationToken cancellationToken)
    {
        var all = await _client.HashGetAllAsync(_prefix + "kv:" + @namespace, cancellationToken).ConfigureAwait(false);
        return all
            .Select(e => RedisRecords.ParseValue(@namespace, e.Key, e.Value))
            .OrderBy(e => e.Key, StringComparer.Ordinal)
            .ToArray();
    }

    /// <inheritdoc />
    public override async Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default)
    {
        var members = await _client.SetMembersAsync(_prefix + "ns", cancellationToken).ConfigureAwait(false);
        return members.Order(StringComparer.Ordinal).ToArray();
    }

    /// <inheritdoc />
    protected override async Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsCoreAsync(string @namespace, CancellationToken cancellationToken)
    {
        var all = await _client.HashGetAllAsync(_prefix + "cps:" + @namespace, cancellationToken).ConfigureAwait(false);
        return all
            .Select(e =>
            {
                var (createdAt, count) = RedisRecords.ParseCheckpointInfo(@namespace, e.Key, e.Value);
                return new CheckpointInfo { Namespace = @namespace, Name = e.Key, CreatedAt = createdAt, EntryCount = count };
            })
            .OrderBy(c => c.CreatedAt)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToArray();
    }

    /// <inheritdoc />
    protected override async Task<CheckpointRecord?> GetCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        var reply = (await EvaluateAsync(RedisScripts.GetCheckpoint, [_prefix, @namespace, name], cancellationToken).ConfigureAwait(false)).AsArray();
        if (reply.Count == 0)
        {
            return null;
        }

        var (createdAt, _) = RedisRecords.ParseCheckpointInfo(@namespace, name, reply[0].AsText());
        return new CheckpointRecord { Namespace = @namespace, Name = name, CreatedAt = createdAt, Entries = ParseEntries(reply[1].AsArray()) };
    }

    /// <inheritdoc />
    /// <remarks>One script reads everything, so the snapshot is of one moment.</remarks>
    public override async Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default)
    {
        var reply = (await EvaluateAsync(RedisScripts.Export, [_prefix], cancellationToken).ConfigureAwait(false)).AsArray();
        var workflows = new List<WorkflowRecord>();
        var steps = new List<StepRecord>();
        var events = new List<AuditEvent>();
        var commands = new List<CommandExecution>();
        var workspaces = new List<WorkspaceRecord>();
        var signals = new List<SignalRecord>();
        foreach (var item in reply[0].AsArray())
        {
            var parts = item.AsArray();
            var id = parts[0].AsText();
            if (RedisRecords.ParseWorkflow(id, parts[1].AsArray()) is not { } workflow)
            {
                continue;
            }

            workflows.Add(workflow);
            steps.AddRange(parts[2].AsArray().Select(e => RedisRecords.ParseStep(e.AsText())));
            events.AddRange(parts[3].AsArray().Select(e => RedisRecords.ParseEvent(e.AsText())));
            commands.AddRange(parts[4].AsArray().Select(e => RedisRecords.ParseCommand(e.AsText())));
            if (parts[5].AsText() is { Length: > 0 } workspace)
            {
                workspaces.Add(RedisRecords.ParseWorkspace(workspace));
            }

            signals.AddRange(parts[6].AsArray().Select(e => RedisRecords.ParseSignal(e.AsText())));
        }

        var values = new List<KeyValueEntry>();
        var checkpoints = new List<CheckpointRecord>();
        foreach (var item in reply[1].AsArray())
        {
            var parts = item.AsArray();
            var @namespace = parts[0].AsText();
            var pairs = parts[1].AsArray();
            for (var i = 0; i + 1 < pairs.Count; i += 2)
            {
                values.Add(RedisRecords.ParseValue(@namespace, pairs[i].AsText(), pairs[i + 1].AsText()));
            }

            foreach (var checkpoint in parts[2].AsArray())
            {
                var fields = checkpoint.AsArray();
                var name = fields[0].AsText();
                var (createdAt, _) = RedisRecords.ParseCheckpointInfo(@namespace, name, fields[1].AsText());
                checkpoints.Add(new CheckpointRecord { Namespace = @namespace, Name = name, CreatedAt = createdAt, Entries = ParseEntries(fields[2].AsArray()) });
            }
        }

        return new StoreSnapshot
        {
            Workflows = workflows,
            Steps = steps,
            Events = events,
            Commands = commands,
            Workspaces = workspaces,
            Signals = signals,
            Values = values,
            Checkpoints = checkpoints,
        }.Canonicalize();
    }

    /// <summary>A checkpoint's entries from HGETALL's flat key, value list.</summary>
    private static SortedDictionary<string, System.Text.Json.JsonElement> ParseEntries(IReadOnlyList<RedisReply> pairs)
    {
        var entries = new SortedDictionary<string, System.Text.Json.JsonElement>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < pairs.Count; i += 2)
        {
            var key = pairs[i].AsText();
            entries[key] = RedisRecords.ParseJson(pairs[i + 1].AsText(), key);
        }

        return entries;
    }

    private static List<WorkflowRecord> ParseRecords(RedisReply reply)
    {
        var items = reply.AsArray();
        var records = new List<WorkflowRecord>(items.Count);
        foreach (var item in items)
        {
            if (ParseRecord(item) is { } record)
            {
                records.Add(record);
            }
        }

        return records;
    }

    /// <summary>A script's <c>{ id, HGETALL }</c> pair.</summary>
    private static WorkflowRecord? ParseRecord(RedisReply reply)
    {
        var parts = reply.AsArray();
        return RedisRecords.ParseWorkflow(parts[0].AsText(), parts[1].AsArray());
    }
}
