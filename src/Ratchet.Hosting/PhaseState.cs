using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Hosting;

/// <summary>
/// The state JSON that phases pass along a pipeline:
/// <c>{"workflow": {"id", "type", "status", "version"}, "inputs": {...}, "artifacts": {...}}</c>. A command run as a
/// phase gets it on standard input with <c>workflow.node</c>, <c>workflow.attempt</c> and
/// <c>workflow.idempotencyKey</c> added. Reading it, only the id is used: the rest is reloaded from the store, so an
/// edited or stale document cannot change a workflow.
/// </summary>
internal static class PhaseState
{
    private static readonly JsonWriterOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions Pretty = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };

    /// <summary>The state JSON of <paramref name="workflow"/>; with <paramref name="running"/>, as the phase's command gets it.</summary>
    public static string Serialize(WorkflowRecord workflow, bool indented, (string Node, int Attempt, string IdempotencyKey)? running = null)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, indented ? Pretty : Compact))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("workflow");
            writer.WriteString("id", workflow.Id);
            writer.WriteString("type", workflow.Type);
            writer.WriteString("status", workflow.Status.ToString());
            writer.WriteNumber("version", workflow.Version);
            if (running is var (node, attempt, idempotencyKey))
            {
                writer.WriteString("node", node);
                writer.WriteNumber("attempt", attempt);
                writer.WriteString("idempotencyKey", idempotencyKey);
            }

            writer.WriteEndObject();
            writer.WritePropertyName("inputs");
            if (workflow.Input is { ValueKind: JsonValueKind.Object } input)
            {
                input.WriteTo(writer);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }

            writer.WriteStartObject("artifacts");
            foreach (var (key, value) in workflow.Artifacts.OrderBy(a => a.Key, StringComparer.Ordinal))
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The workflow id in a state JSON (or any JSON with <c>workflow.id</c> or a top-level <c>id</c>); null when it holds none.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static string? FindId(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var root = RatchetJson.ParseDocument(text);
        return root.ValueKind == JsonValueKind.Object &&
            ((root.TryGetProperty("workflow", out var workflow) && workflow.ValueKind == JsonValueKind.Object && workflow.TryGetProperty("id", out var id)) ||
             root.TryGetProperty("id", out id)) &&
            id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } value
            ? value
            : null;
    }
}
