using System.Text.Json.Serialization;

namespace Ratchet.Triggers;

/// <summary>
/// "When a workflow of type <see cref="SourceType"/> (or the workflow <see cref="SourceWorkflowId"/>) reaches
/// <see cref="OnStatus"/> and <see cref="Condition"/> holds, start a workflow of type <see cref="TargetType"/> with the
/// input built by <see cref="Input"/>." Stored in the key-value namespace <see cref="TriggerCatalog.Namespace"/>, so every
/// backend keeps triggers; fired inside the commit that moves the source workflow to that status, so a trigger fires
/// exactly once per transition even across crashes.
/// </summary>
/// <remarks>
/// <para>Expressions (see <see cref="Expressions.Expression"/>) see these roots: <c>output</c> (the output of the source
/// workflow's last node), <c>artifacts</c> (every node's output by node name), <c>inputs</c> (the source's input) and
/// <c>workflow</c> (<c>id</c>, <c>type</c>, <c>status</c>, <c>error</c>).</para>
/// </remarks>
public sealed record TriggerDefinition
{
    /// <summary>The trigger's name: a slug (letters, digits, '-', '_', '.'), unique in the store.</summary>
    public required string Name { get; init; }

    /// <summary>Fires for workflows of this type (definition name). Exactly one of this and <see cref="SourceWorkflowId"/>.</summary>
    public string? SourceType { get; init; }

    /// <summary>Fires for this one workflow. Exactly one of this and <see cref="SourceType"/>.</summary>
    public string? SourceWorkflowId { get; init; }

    /// <summary>The status that fires it; Completed unless said otherwise. Pending never fires (workflows start there).</summary>
    public WorkflowStatus OnStatus { get; init; } = WorkflowStatus.Completed;

    /// <summary>An expression that must be true for the trigger to fire; null fires on every such transition.</summary>
    public string? Condition { get; init; }

    /// <summary>The type of workflow to start.</summary>
    public required string TargetType { get; init; }

    /// <summary>The started workflow's input, field by field: field name → expression. Empty: an empty object.</summary>
    public IReadOnlyDictionary<string, string> Input { get; init; } = new Dictionary<string, string>();

    /// <summary>Whether it fires; a disabled trigger is kept but ignored.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// Lets this trigger close a cycle of types (A starts B, B starts A). Without it, such a trigger is refused when it
    /// is added. Either way, a chain of triggered workflows stops at the engine's
    /// <see cref="Engine.RatchetOptions.MaxTriggerChainDepth"/>.
    /// </summary>
    public bool AllowCycle { get; init; }

    /// <summary>When it was added.</summary>
    public DateTimeOffset CreatedAt { get; init; }
}

/// <summary>Source-generated JSON for triggers, as stored.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(TriggerDefinition))]
[JsonSerializable(typeof(TriggerOrigin))]
[JsonSerializable(typeof(Dictionary<string, TriggerOrigin>))]
internal sealed partial class TriggerJsonContext : JsonSerializerContext;

/// <summary>What a triggered workflow's metadata records of its origin, under <c>triggeredBy</c>.</summary>
/// <param name="Trigger">The trigger's name.</param>
/// <param name="Workflow">The workflow whose transition fired it.</param>
/// <param name="Type">That workflow's type.</param>
/// <param name="Depth">1 for a workflow started by a trigger on a workflow nobody triggered, then one more per link.</param>
public sealed record TriggerOrigin(string Trigger, string Workflow, string Type, int Depth);
