using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Serialization;

namespace Ratchet.Yaml;

/// <summary>
/// The workflow's state as templates, conditions and commands see it:
/// <c>{ "workflow": { id, type, node, attempt, idempotencyKey, dir, workspace, error }, "inputs": {…}, "artifacts": {…}, "output": … }</c>.
/// Commands also get it on standard input.
/// </summary>
internal static class StateScope
{
    /// <summary>Builds the scope for <paramref name="context"/>'s node; <paramref name="output"/> only for conditions.</summary>
    public static JsonElement Build(NodeContext context, WorkflowFile file, string? workspace, JsonElement? output)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Build(context.Workflow, context.Node, context.Attempt, file, workspace, output);
    }

    /// <summary>
    /// Builds the scope for node <paramref name="node"/> of <paramref name="workflow"/> at <paramref name="attempt"/>,
    /// for what is rendered outside a running node (an approval's prompt, when the workflow parks there).
    /// </summary>
    public static JsonElement Build(WorkflowRecord workflow, string node, int attempt, WorkflowFile file, string? workspace, JsonElement? output)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(file);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("workflow");
            writer.WriteString("id", workflow.Id);
            writer.WriteString("type", workflow.Type);
            writer.WriteString("node", node);
            writer.WriteNumber("attempt", attempt);

            // As NodeContext.IdempotencyKey names an attempt.
            writer.WriteString("idempotencyKey", $"{workflow.Id}/{node}/{Invariant(attempt)}");
            writer.WriteString("dir", file.Directory);
            if (workspace is not null)
            {
                writer.WriteString("workspace", workspace);
            }

            // On a failure path, what failed: the node that reports it needs the reason, not only that it ran.
            if (workflow.Error is { } error)
            {
                writer.WriteStartObject("error");
                writer.WriteString("type", error.Type);
                writer.WriteString("message", error.Message);
                if (error.Node is not null)
                {
                    writer.WriteString("node", error.Node);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteStartObject("inputs");
            var given = workflow.Input is { ValueKind: JsonValueKind.Object } input ? input : (JsonElement?)null;
            if (given is { } values)
            {
                foreach (var property in values.EnumerateObject())
                {
                    property.WriteTo(writer);
                }
            }

            // `ratchet run` binds defaults into the input, but a workflow started otherwise (a trigger, the library's
            // StartAsync) gets only what its starter gave: the file's defaults fill the rest, as they would on `run`.
            foreach (var spec in file.Inputs)
            {
                if (spec.Default is { } fallback && !(given is { } present && present.TryGetProperty(spec.Name, out _)))
                {
                    writer.WritePropertyName(spec.Name);
                    fallback.WriteTo(writer);
                }
            }

            writer.WriteEndObject();

            writer.WriteStartObject("artifacts");
            foreach (var (key, value) in workflow.Artifacts)
            {
                writer.WritePropertyName(key);
                value.WriteTo(writer);
            }

            writer.WriteEndObject();
            if (output is { } value2)
            {
                writer.WritePropertyName("output");
                value2.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        // The scope holds values a few levels down: a document, not a value.
        return RatchetJson.ParseDocument(buffer.WrittenSpan);
    }

    /// <summary>A value as an environment variable or argument: strings as they are, other values as JSON.</summary>
    public static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => value.GetRawText(),
    };

    internal static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    internal static JsonElement Empty { get; } = RatchetJson.Parse("{}");
}
