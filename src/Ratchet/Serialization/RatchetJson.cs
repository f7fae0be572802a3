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
public static class RatchetJson
{
    /// <summary>Serializer options for Ratchet's records; source-generated, so they work trimmed and fast.</summary>
    public static JsonSerializerOptions Options => RatchetJsonContext.Default.Options;

    /// <summary>The raw text of a JSON value; null for none.</summary>
    public static string? ToText(JsonElement? value) =>
        value is { ValueKind: not JsonValueKind.Undefined } element ? element.GetRawText() : null;

    /// <summary>Parses JSON text into a value that outlives any buffer; null text gives null.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static JsonElement? ParseOptional(string? text) => text is null ? null : Parse(text);

    /// <summary>Parses JSON text into a value that outlives any buffer.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static JsonElement Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text));
        return JsonElement.ParseValue(ref reader);
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

        var root = Parse(text);
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

        return Normalize(snapshot);
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
public sealed partial class RatchetJsonContext : JsonSerializerContext
{
    private static RatchetJsonContext? s_indented;

    /// <summary>The same metadata with indented output, for files meant to be read by people.</summary>
    public static RatchetJsonContext Indented =>
        s_indented ??= new RatchetJsonContext(new JsonSerializerOptions(Default.Options) { WriteIndented = true });
}
