using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Hosting;

/// <summary>
/// The <c>jsonl</c> export: a header line <c>{"kind":"ratchet-export","formatVersion":1}</c>, then one line per record:
/// the record's JSON object (as in the json export) with a <c>"kind"</c> property first: workflow, step, event, command,
/// workspace, signal, value or checkpoint. Lines can be filtered with grep/jq and read back by <c>state import</c>.
/// </summary>
internal static class StoreJsonLines
{
    /// <summary>The <c>kind</c> of the header line.</summary>
    public const string HeaderKind = "ratchet-export";

    /// <summary>Writes <paramref name="snapshot"/> as JSON lines.</summary>
    public static void Write(TextWriter output, StoreSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(snapshot);
        var json = RatchetJsonContext.Default;
        output.WriteLine($"{{\"kind\":\"{HeaderKind}\",\"formatVersion\":{snapshot.FormatVersion.ToString(CultureInfo.InvariantCulture)}}}");
        WriteAll(output, "workflow", snapshot.Workflows, json.WorkflowRecord);
        WriteAll(output, "step", snapshot.Steps, json.StepRecord);
        WriteAll(output, "event", snapshot.Events, json.AuditEvent);
        WriteAll(output, "command", snapshot.Commands, json.CommandExecution);
        WriteAll(output, "workspace", snapshot.Workspaces, json.WorkspaceRecord);
        WriteAll(output, "signal", snapshot.Signals, json.SignalRecord);
        WriteAll(output, "value", snapshot.Values, json.KeyValueEntry);
        WriteAll(output, "checkpoint", snapshot.Checkpoints, json.CheckpointRecord);
    }

    /// <summary>Whether the text starts with a one-line JSON object that has a <c>kind</c>: the jsonl format.</summary>
    public static bool Looks(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = text.TrimStart().Split('\n', 2)[0].Trim();
        try
        {
            var line = RatchetJson.ParseDocument(first);
            return line.ValueKind == JsonValueKind.Object && line.TryGetProperty("kind", out _);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Reads JSON lines written by <see cref="Write"/>; <paramref name="source"/> names where they came from, for messages.</summary>
    /// <exception cref="InvalidExportException">A line is not a record, or the export is from a newer Ratchet.</exception>
    public static StoreSnapshot Read(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        var json = RatchetJsonContext.Default;
        var workflows = new List<WorkflowRecord>();
        var steps = new List<StepRecord>();
        var events = new List<AuditEvent>();
        var commands = new List<CommandExecution>();
        var workspaces = new List<WorkspaceRecord>();
        var signals = new List<SignalRecord>();
        var values = new List<KeyValueEntry>();
        var checkpoints = new List<CheckpointRecord>();
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                var element = RatchetJson.ParseDocument(line);
                var kind = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String
                    ? k.GetString()
                    : throw new JsonException("the line is not a JSON object with a \"kind\"");
                switch (kind)
                {
                    case HeaderKind:
                        var version = element.TryGetProperty("formatVersion", out var v) ? v.GetInt32() : StoreSnapshot.CurrentFormatVersion;
                        if (version > StoreSnapshot.CurrentFormatVersion)
                        {
                            throw new InvalidExportException(
                                $"{source} is in export format {version}; this Ratchet reads up to {StoreSnapshot.CurrentFormatVersion}. Upgrade Ratchet to import it.");
                        }

                        break;
                    case "workflow":
                        var workflow = Deserialize(element, json.WorkflowRecord);
                        workflows.Add(workflow.Artifacts is null ? workflow with { Artifacts = WorkflowRecord.NoArtifacts } : workflow);
                        break;
                    case "step":
                        steps.Add(Deserialize(element, json.StepRecord));
                        break;
                    case "event":
                        events.Add(Deserialize(element, json.AuditEvent));
                        break;
                    case "command":
                        commands.Add(Deserialize(element, json.CommandExecution));
                        break;
                    case "workspace":
                        workspaces.Add(Deserialize(element, json.WorkspaceRecord));
                        break;
                    case "signal":
                        signals.Add(Deserialize(element, json.SignalRecord));
                        break;
                    case "value":
                        values.Add(Deserialize(element, json.KeyValueEntry));
                        break;
                    case "checkpoint":
                        checkpoints.Add(Deserialize(element, json.CheckpointRecord));
                        break;
                    default:
                        throw new JsonException($"unknown kind '{kind}' (expected workflow, step, event, command, workspace, signal, value or checkpoint)");
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
            {
                throw new InvalidExportException($"Line {number} of {source} is not a Ratchet export record: {ex.Message.TrimEnd('.')}.");
            }
        }

        return new StoreSnapshot
        {
            Workflows = workflows, Steps = steps, Events = events, Commands = commands, Workspaces = workspaces, Signals = signals, Values = values, Checkpoints = checkpoints,
        }.Canonicalize();
    }

    private static T Deserialize<T>(JsonElement element, JsonTypeInfo<T> typeInfo) =>
        element.Deserialize(typeInfo) ?? throw new JsonException("the record is null");

    private static void WriteAll<T>(TextWriter output, string kind, IEnumerable<T> records, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        foreach (var record in records)
        {
            buffer.ResetWrittenCount();
            // Relaxed escaping keeps lines greppable ("+00:00", not "\u002B00:00"); it is still valid JSON.
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                writer.WriteStartObject();
                writer.WriteString("kind", kind);
                foreach (var property in JsonSerializer.SerializeToElement(record, typeInfo).EnumerateObject())
                {
                    property.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
    }
}
