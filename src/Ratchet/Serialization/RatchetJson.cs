using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Ratchet.Storage;

namespace Ratchet.Serialization;

/// <summary>
/// Ratchet's JSON conventions (camelCase, enums as strings, nulls omitted) and the conversions stores use to keep
/// JSON values as text.
/// </summary>
internal static class RatchetJson
{
    /// <summary>
    /// The deepest a JSON value may nest, counting arrays and objects inside each other (<c>[[1]]</c> is 2 deep): a
    /// workflow's input, a node's output, a signal's payload, a key's value. Deeper values are refused where they enter
    /// (<see cref="Parse(string, string)"/>, change sets, workflow creation, a node's result) with
    /// <see cref="JsonTooDeepException"/>, so that whatever a store accepted it can also read back, export and migrate.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// The deepest Ratchet's own JSON documents may nest: records, snapshots, export lines, template scopes and maps,
    /// which carry values of up to <see cref="MaxDepth"/> a few levels down. Every store can hold this much.
    /// </summary>
    public const int MaxDocumentDepth = 2 * MaxDepth;

    private static readonly IReadOnlyDictionary<string, JsonElement> NoMap = new Dictionary<string, JsonElement>();
    private static readonly JsonReaderOptions ValueReaderOptions = new() { MaxDepth = MaxDepth };
    private static readonly JsonReaderOptions DocumentReaderOptions = new() { MaxDepth = MaxDocumentDepth };

    /// <summary>Serializer options for Ratchet's records; source-generated, so they work trimmed and fast.</summary>
    public static JsonSerializerOptions Options => RatchetJsonContext.Default.Options;

    /// <summary>The raw text of a JSON value; null for none.</summary>
    public static string? ToText(JsonElement? value) =>
        value is { ValueKind: not JsonValueKind.Undefined } element ? element.GetRawText() : null;

    /// <summary>Parses JSON text into a value that outlives any buffer; null text gives null.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    /// <exception cref="JsonTooDeepException">It nests deeper than <see cref="MaxDepth"/>.</exception>
    public static JsonElement? ParseOptional(string? text) => text is null ? null : Parse(text);

    /// <summary>Parses JSON text into a value that outlives any buffer.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    /// <exception cref="JsonTooDeepException">It nests deeper than <see cref="MaxDepth"/>.</exception>
    public static JsonElement Parse(string text) => Parse(text, "The JSON value");

    /// <summary>Parses JSON text into a value that outlives any buffer; <paramref name="subject"/> names it in the error if it is too deep.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    /// <exception cref="JsonTooDeepException">It nests deeper than <see cref="MaxDepth"/>.</exception>
    public static JsonElement Parse(string text, string subject)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(bytes, ValueReaderOptions);
        try
        {
            return JsonElement.ParseValue(ref reader);
        }
        catch (JsonException) when (NestsDeeperThanMaxDepth(bytes))
        {
            // The reader says only that a limit was exceeded, and a value 10,000 deep is not "not JSON".
            throw new JsonTooDeepException(subject);
        }
    }

    /// <summary>
    /// Parses one of Ratchet's own JSON documents (a map of values, an export line, a template scope), which may hold
    /// values of <see cref="MaxDepth"/> a few levels down: up to <see cref="MaxDocumentDepth"/>. Stores read what they
    /// hold with it too: a value's depth is checked where it enters, never when it is read back.
    /// </summary>
    /// <exception cref="JsonException">The text is not JSON, or nests deeper than <see cref="MaxDocumentDepth"/>.</exception>
    public static JsonElement ParseDocument(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ParseDocument(Encoding.UTF8.GetBytes(text));
    }

    /// <inheritdoc cref="ParseDocument(string)"/>
    public static JsonElement ParseDocument(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, DocumentReaderOptions);
        return JsonElement.ParseValue(ref reader);
    }

    /// <summary>Whether <paramref name="value"/> nests arrays and objects deeper than <see cref="MaxDepth"/>.</summary>
    public static bool IsTooDeep(JsonElement value) => Deeper(value, 0);

    /// <summary>Refuses a value that nests deeper than <see cref="MaxDepth"/>; <paramref name="subject"/> names it in the error.</summary>
    /// <exception cref="JsonTooDeepException">It does.</exception>
    public static void EnsureDepth(JsonElement? value, string subject)
    {
        if (value is { } element && Deeper(element, 0))
        {
            throw new JsonTooDeepException(subject);
        }
    }

    /// <summary>
    /// Refuses a workflow's input holding a value deeper than <see cref="MaxDepth"/>: each property of an object (an
    /// input, as <c>inputs.NAME</c> reads it), or the whole input when it is not an object.
    /// </summary>
    /// <exception cref="JsonTooDeepException">It does.</exception>
    public static void EnsureInputDepth(JsonElement? input)
    {
        if (input is not { } element)
        {
            return;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            EnsureDepth(element, "The workflow's input");
            return;
        }

        foreach (var property in element.EnumerateObject())
        {
            EnsureDepth(property.Value, $"Input '{property.Name}'");
        }
    }

    // Bounded by MaxDepth + 1 frames: it stops at the first level too many.
    private static bool Deeper(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth == MaxDepth)
                {
                    return true;
                }

                foreach (var property in element.EnumerateObject())
                {
                    if (Deeper(property.Value, depth + 1))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                if (depth == MaxDepth)
                {
                    return true;
                }

                foreach (var item in element.EnumerateArray())
                {
                    if (Deeper(item, depth + 1))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>Whether the text, read token by token, opens more than <see cref="MaxDepth"/> arrays and objects before any syntax error.</summary>
    private static bool NestsDeeperThanMaxDepth(byte[] utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = int.MaxValue });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray && reader.CurrentDepth >= MaxDepth)
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
            // A syntax error before the depth went past the limit: the text is not JSON.
        }

        return false;
    }

    /// <summary>Serializes a value with Ratchet's conventions into a JSON element.</summary>
    public static JsonElement ToElement<T>(T value) =>
        JsonSerializer.SerializeToElement(value, Options.GetTypeInfo(typeof(T)));

    /// <summary>A JSON object whose properties are the map's entries, in the map's order.</summary>
    public static string MapToText(IReadOnlyDictionary<string, JsonElement> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Count == 0)
        {
            return "{}";
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in map)
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Reads a JSON object written by <see cref="MapToText"/>; null or empty text gives an empty map.</summary>
    /// <exception cref="JsonException">The text is not a JSON object.</exception>
    public static IReadOnlyDictionary<string, JsonElement> ParseMap(string? text)
    {
        if (string.IsNullOrEmpty(text) || text == "{}")
        {
            return WorkflowRecord.NoArtifacts;
        }

        var root = ParseDocument(text);
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"Expected a JSON object, found {root.ValueKind}.");
        }

        var map = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in root.EnumerateObject())
        {
            map[property.Name] = property.Value;
        }

        return map;
    }

    /// <summary>A workflow error as JSON text; null for none.</summary>
    public static string? ErrorToText(WorkflowError? error) =>
        error is null ? null : JsonSerializer.Serialize(error, RatchetJsonContext.Default.WorkflowError);

    /// <summary>Reads a workflow error written by <see cref="ErrorToText"/>.</summary>
    public static WorkflowError? ParseError(string? text) =>
        text is null ? null : JsonSerializer.Deserialize(text, RatchetJsonContext.Default.WorkflowError);

    /// <summary>Whether two JSON values are equal by content (property order ignored), null equal to null.</summary>
    public static bool DeepEquals(JsonElement? left, JsonElement? right) =>
        (left, right) switch
        {
            (null, null) => true,
            ({ } l, { } r) => JsonElement.DeepEquals(l, r),
            _ => false,
        };

    /// <summary>Writes a snapshot as one indented JSON document.</summary>
    public static Task WriteSnapshotAsync(Stream destination, StoreSnapshot snapshot, CancellationToken cancellationToken = default) =>
        JsonSerializer.SerializeAsync(destination, snapshot, RatchetJsonContext.Indented.StoreSnapshot, cancellationToken);

    /// <summary>Reads a snapshot written by <see cref="WriteSnapshotAsync"/>.</summary>
    /// <exception cref="JsonException">The stream is not a snapshot, or is of a newer format.</exception>
    public static async Task<StoreSnapshot> ReadSnapshotAsync(Stream source, CancellationToken cancellationToken = default)
    {
        var snapshot = await JsonSerializer.DeserializeAsync(source, RatchetJsonContext.Default.StoreSnapshot, cancellationToken)
            ?? throw new JsonException("The export is empty (JSON null) instead of a Ratchet snapshot.");
        if (snapshot.FormatVersion > StoreSnapshot.CurrentFormatVersion)
        {
            throw new JsonException(
                $"The export is in snapshot format {snapshot.FormatVersion}; this Ratchet reads up to {StoreSnapshot.CurrentFormatVersion}. Upgrade Ratchet to import it.");
        }

        snapshot = Normalize(snapshot);
        EnsureDepth(snapshot);
        return snapshot;
    }

    /// <summary>
    /// Refuses a snapshot holding a value deeper than <see cref="MaxDepth"/> (an input, artifact, metadata, step output,
    /// key-value or checkpoint value), which no store would have accepted: imported, it could not be exported again.
    /// </summary>
    /// <exception cref="JsonTooDeepException">It does.</exception>
    public static void EnsureDepth(StoreSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        foreach (var workflow in snapshot.Workflows ?? [])
        {
            EnsureInputDepth(workflow.Input);
            EnsureDepth(workflow.Metadata, $"The metadata of workflow '{workflow.Id}'");
            foreach (var (node, artifact) in workflow.Artifacts ?? NoMap)
            {
                EnsureDepth(artifact, $"The output of node '{node}' of workflow '{workflow.Id}'");
            }
        }

        foreach (var step in snapshot.Steps ?? [])
        {
            EnsureDepth(step.Output, $"The output of node '{step.Node}' of workflow '{step.WorkflowId}'");
        }

        foreach (var value in snapshot.Values ?? [])
        {
            EnsureDepth(value.Value, $"The value of key '{value.Key}' in namespace '{value.Namespace}'");
        }

        foreach (var checkpoint in snapshot.Checkpoints ?? [])
        {
            foreach (var (key, value) in checkpoint.Entries ?? NoMap)
            {
                EnsureDepth(value, $"The value of key '{key}' in checkpoint '{checkpoint.Name}'");
            }
        }
    }

    /// <summary>
    /// Puts defaults where a hand-written or partial export left properties out: the serializer writes null into
    /// an omitted collection, and a missing format version means the first format.
    /// </summary>
    private static StoreSnapshot Normalize(StoreSnapshot snapshot) => snapshot with
    {
        FormatVersion = snapshot.FormatVersion == 0 ? StoreSnapshot.CurrentFormatVersion : snapshot.FormatVersion,
        Workflows = (snapshot.Workflows ?? []).Select(w => w.Artifacts is null ? w with { Artifacts = WorkflowRecord.NoArtifacts } : w).ToArray(),
        Steps = snapshot.Steps ?? [],
        Events = snapshot.Events ?? [],
        Commands = snapshot.Commands ?? [],
        Workspaces = snapshot.Workspaces ?? [],
        Signals = snapshot.Signals ?? [],
        Values = snapshot.Values ?? [],
        Checkpoints = snapshot.Checkpoints ?? [],
    };

    /// <summary>One audit event as a single JSON line (no trailing newline), readable as it is (quotes and '+' not escaped).</summary>
    public static string ToJsonLine(AuditEvent auditEvent) =>
        JsonSerializer.Serialize(auditEvent, LineOptions.GetTypeInfo(typeof(AuditEvent)));

    /// <summary>
    /// Compact, with only what JSON itself requires escaped: lines meant for terminals, files and grep, never for
    /// embedding in HTML (where the default encoder's extra escaping matters).
    /// </summary>
    public static JsonSerializerOptions LineOptions { get; } = new(RatchetJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}

/// <summary>Source-generated serialization metadata for Ratchet's records.</summary>
[JsonSourceGenerationOptions(
    MaxDepth = RatchetJson.MaxDocumentDepth,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip)]
[JsonSerializable(typeof(StoreSnapshot))]
[JsonSerializable(typeof(WorkflowRecord))]
[JsonSerializable(typeof(StepRecord))]
[JsonSerializable(typeof(AuditEvent))]
[JsonSerializable(typeof(CommandExecution))]
[JsonSerializable(typeof(WorkspaceRecord))]
[JsonSerializable(typeof(SignalRecord))]
[JsonSerializable(typeof(KeyValueEntry))]
[JsonSerializable(typeof(CheckpointRecord))]
[JsonSerializable(typeof(CheckpointInfo))]
[JsonSerializable(typeof(WorkflowError))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
internal sealed partial class RatchetJsonContext : JsonSerializerContext
{
    private static RatchetJsonContext? s_indented;

    /// <summary>The same metadata with indented output, for files meant to be read by people.</summary>
    public static RatchetJsonContext Indented =>
        s_indented ??= new RatchetJsonContext(new JsonSerializerOptions(Default.Options) { WriteIndented = true });
}
