using System.Globalization;
using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Redis;

/// <summary>
/// How records become Redis values and back. A workflow's JSON document leaves out what scripts change (version,
/// lease, archive time, update time): those live in hash fields of their own and are laid over the document on read.
/// </summary>
internal static class RedisRecords
{
    /// <summary>Microseconds as decimal text: within 2^53 for any plausible time, so exact as a sorted-set score.</summary>
    public static string Micros(DateTimeOffset time) => StoreTime.ToMicroseconds(time).ToString(CultureInfo.InvariantCulture);

    public static string Micros(DateTimeOffset? time) => time is { } value ? Micros(value) : "";

    public static DateTimeOffset FromMicros(string text) =>
        StoreTime.FromMicroseconds(long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));

    public static DateTimeOffset? OptionalMicros(string? text) => string.IsNullOrEmpty(text) ? null : FromMicros(text);

    /// <summary>
    /// 16 hex digits that sort as the time does (sign bit flipped, so times before 1970 sort first). The creation index
    /// member is these followed by the id: lexicographic order is (created, id), which keyset paging needs.
    /// </summary>
    public static string SortableMicros(long micros) =>
        ((ulong)micros ^ 0x8000_0000_0000_0000UL).ToString("x16", CultureInfo.InvariantCulture);

    public static string CreatedKey(WorkflowRecord record) => SortableMicros(StoreTime.ToMicroseconds(record.CreatedAt)) + record.Id;

    public static string Flag(bool value) => value ? "1" : "0";

    /// <summary>Adds doc, st, ty, pa, ck, up, due, done, term, ar: the fields every workflow write sets.</summary>
    public static void AddWorkflowFields(List<string> args, WorkflowRecord record)
    {
        args.Add(JsonSerializer.Serialize(record with { Version = 0, LeaseOwner = null, LeaseExpiresAt = null, ArchivedAt = null },
            RatchetJsonContext.Default.WorkflowRecord));
        args.Add(record.Status.ToString());
        args.Add(record.Type);
        args.Add(record.ParentId ?? "");
        args.Add(CreatedKey(record));
        args.Add(Micros(record.UpdatedAt));
        args.Add(Micros(record.DueAt));
        args.Add(Micros(record.CompletedAt));
        args.Add(Flag(record.IsTerminal));
        args.Add(Micros(record.ArchivedAt));
    }

    /// <summary>
    /// The hash's <c>qu</c> field, which the claim scripts read: <c>priority\npartition\nqueue</c>, or empty for a
    /// workflow in no queue (names and partition keys never hold a line break: ids cannot, and the engine strips them).
    /// </summary>
    public static string QueueField(WorkflowRecord record) =>
        record.Queue is { } queue
            ? string.Create(CultureInfo.InvariantCulture, $"{record.QueuePriority}\n{record.QueuePartition?.ReplaceLineEndings(" ")}\n{queue}")
            : "";

    /// <summary>A workflow from its hash (HGETALL as field, value pairs); null for an empty hash (no such workflow).</summary>
    public static WorkflowRecord? ParseWorkflow(string id, IReadOnlyList<RedisReply> pairs)
    {
        if (pairs.Count == 0)
        {
            return null;
        }

        string? doc = null, version = null, owner = null, expires = null, archived = null, updated = null;
        for (var i = 0; i + 1 < pairs.Count; i += 2)
        {
            switch (pairs[i].AsText())
            {
                case "doc": doc = pairs[i + 1].AsText(); break;
                case "v": version = pairs[i + 1].AsText(); break;
                case "lo": owner = pairs[i + 1].AsText(); break;
                case "le": expires = pairs[i + 1].AsText(); break;
                case "ar": archived = pairs[i + 1].AsText(); break;
                case "up": updated = pairs[i + 1].AsText(); break;
            }
        }

        return ParseWorkflow(id, doc, version, owner, expires, archived, updated);
    }

    public static WorkflowRecord? ParseWorkflow(string id, IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        if (fields.Count == 0)
        {
            return null;
        }

        string? doc = null, version = null, owner = null, expires = null, archived = null, updated = null;
        foreach (var (name, value) in fields)
        {
            switch (name)
            {
                case "doc": doc = value; break;
                case "v": version = value; break;
                case "lo": owner = value; break;
                case "le": expires = value; break;
                case "ar": archived = value; break;
                case "up": updated = value; break;
            }
        }

        return ParseWorkflow(id, doc, version, owner, expires, archived, updated);
    }

    private static WorkflowRecord ParseWorkflow(string id, string? doc, string? version, string? owner, string? expires, string? archived, string? updated)
    {
        if (doc is null || version is null || updated is null)
        {
            throw new StoreCorruptException($"The Redis hash of workflow '{id}' lacks its document, version or update time; it was not written by Ratchet or was changed by hand.");
        }

        try
        {
            var record = JsonSerializer.Deserialize(doc, RatchetJsonContext.Default.WorkflowRecord)
                ?? throw new JsonException("The document is JSON null.");
            return record with
            {
                Artifacts = record.Artifacts ?? WorkflowRecord.NoArtifacts,
                Version = long.Parse(version, NumberStyles.None, CultureInfo.InvariantCulture),
                LeaseOwner = string.IsNullOrEmpty(owner) ? null : owner,
                LeaseExpiresAt = string.IsNullOrEmpty(owner) ? null : OptionalMicros(expires),
                ArchivedAt = OptionalMicros(archived),
                UpdatedAt = FromMicros(updated),
            };
        }
        catch (Exception ex) when (ex is JsonException or FormatException or OverflowException)
        {
            throw new StoreCorruptException($"The Redis hash of workflow '{id}' cannot be read ({ex.Message}); it was changed by hand or by another program.", ex);
        }
    }

    // Journal entries are stored as "<sequence>\n<json>"; the JSON's own sequence is ignored on read.

    public static string StepJson(StepRecord step) =>
        JsonSerializer.Serialize(StoreRecords.Truncate(step with { Sequence = 0 }), RatchetJsonContext.Default.StepRecord);

    public static string EventJson(AuditEvent auditEvent) =>
        JsonSerializer.Serialize(StoreRecords.Truncate(auditEvent with { Sequence = 0 }), RatchetJsonContext.Default.AuditEvent);

    public static string CommandJson(CommandExecution command) =>
        JsonSerializer.Serialize(StoreRecords.Truncate(command with { Sequence = 0 }), RatchetJsonContext.Default.CommandExecution);

    public static string WorkspaceJson(WorkspaceRecord workspace) =>
        JsonSerializer.Serialize(StoreRecords.Truncate(workspace), RatchetJsonContext.Default.WorkspaceRecord);

    public static StepRecord ParseStep(string entry) => ParseEntry(entry, RatchetJsonContext.Default.StepRecord, (s, seq) => s with { Sequence = seq });

    public static AuditEvent ParseEvent(string entry) => ParseEntry(entry, RatchetJsonContext.Default.AuditEvent, (e, seq) => e with { Sequence = seq });

    public static CommandExecution ParseCommand(string entry) => ParseEntry(entry, RatchetJsonContext.Default.CommandExecution, (c, seq) => c with { Sequence = seq });

    /// <summary>A pending signal as the commit script takes it: "<c>name\njson</c>" (the script puts the sequence before it).</summary>
    public static string SignalEntry(SignalRecord signal) =>
        signal.Name + "\n" + JsonSerializer.Serialize(StoreRecords.Truncate(signal with { Sequence = 0 }), RatchetJsonContext.Default.SignalRecord);

    /// <summary>A member of <c>sigs:&lt;id&gt;</c>: "<c>sequence\nname\njson</c>"; the JSON's own sequence is ignored.</summary>
    public static SignalRecord ParseSignal(string entry)
    {
        var first = entry.IndexOf('\n', StringComparison.Ordinal);
        var second = first < 0 ? -1 : entry.IndexOf('\n', first + 1);
        if (second < 0 || !long.TryParse(entry.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            throw new StoreCorruptException($"A Redis signal entry '{Shorten(entry)}' is not in Ratchet's form; it was changed by hand.");
        }

        return Parse(entry[(second + 1)..], RatchetJsonContext.Default.SignalRecord, "signal") with { Sequence = sequence };
    }

    public static WorkspaceRecord ParseWorkspace(string json) => Parse(json, RatchetJsonContext.Default.WorkspaceRecord, "workspace");

    private static T ParseEntry<T>(string entry, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, Func<T, long, T> withSequence)
    {
        var newline = entry.IndexOf('\n', StringComparison.Ordinal);
        if (newline <= 0 || !long.TryParse(entry.AsSpan(0, newline), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            throw new StoreCorruptException($"A Redis journal entry '{Shorten(entry)}' does not start with its sequence number; it was changed by hand.");
        }

        return withSequence(Parse(entry[(newline + 1)..], typeInfo, typeof(T).Name), sequence);
    }

    private static T Parse<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string what)
    {
        try
        {
            return JsonSerializer.Deserialize(json, typeInfo) ?? throw new JsonException("JSON null.");
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptException($"A Redis {what} record '{Shorten(json)}' cannot be read ({ex.Message}); it was changed by hand.", ex);
        }
    }

    /// <summary>Key-value entries are stored as "<c>version\nupdated micros\njson</c>".</summary>
    public static KeyValueEntry ParseValue(string @namespace, string key, string stored)
    {
        var first = stored.IndexOf('\n', StringComparison.Ordinal);
        var second = first < 0 ? -1 : stored.IndexOf('\n', first + 1);
        if (second < 0 ||
            !long.TryParse(stored.AsSpan(0, first), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ||
            !long.TryParse(stored.AsSpan(first + 1, second - first - 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var updated))
        {
            throw new StoreCorruptException($"The Redis value of key '{key}' in namespace '{@namespace}' is not in Ratchet's form; it was changed by hand.");
        }

        return new KeyValueEntry
        {
            Namespace = @namespace,
            Key = key,
            Value = ParseJson(stored[(second + 1)..], key),
            Version = version,
            UpdatedAt = StoreTime.FromMicroseconds(updated),
        };
    }

    public static string ValueText(KeyValueEntry entry) => string.Create(CultureInfo.InvariantCulture,
        $"{entry.Version}\n{StoreTime.ToMicroseconds(entry.UpdatedAt)}\n{entry.Value.GetRawText()}");

    public static JsonElement ParseJson(string text, string what)
    {
        try
        {
            return RatchetJson.ParseDocument(text);
        }
        catch (JsonException ex)
        {
            throw new StoreCorruptException($"The Redis value of '{what}' is not JSON ({ex.Message}); it was changed by hand.", ex);
        }
    }

    /// <summary>A checkpoint's "<c>created micros\nentry count</c>".</summary>
    public static (DateTimeOffset CreatedAt, int Count) ParseCheckpointInfo(string @namespace, string name, string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        if (newline < 0 ||
            !long.TryParse(text.AsSpan(0, newline), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var created) ||
            !int.TryParse(text.AsSpan(newline + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count))
        {
            throw new StoreCorruptException($"The Redis record of checkpoint '{name}' in namespace '{@namespace}' is not in Ratchet's form; it was changed by hand.");
        }

        return (StoreTime.FromMicroseconds(created), count);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
