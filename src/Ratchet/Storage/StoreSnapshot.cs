using System.Text.Json.Serialization;

namespace Ratchet.Storage;

/// <summary>
/// Everything a store holds, as plain records. Lists are in canonical order (ordinal by id or key, then sequence),
/// so the same data exports identically from any backend.
/// </summary>
public sealed record StoreSnapshot
{
    /// <summary>The version of this snapshot format.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The snapshot format version the data was written in.</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>Every workflow, archived ones included, ordered by id.</summary>
    public IReadOnlyList<WorkflowRecord> Workflows { get; init; } = [];

    /// <summary>Every journal entry, ordered by workflow id then sequence.</summary>
    public IReadOnlyList<StepRecord> Steps { get; init; } = [];

    /// <summary>Every audit event, ordered by workflow id then sequence.</summary>
    public IReadOnlyList<AuditEvent> Events { get; init; } = [];

    /// <summary>Every command execution, ordered by workflow id then sequence.</summary>
    public IReadOnlyList<CommandExecution> Commands { get; init; } = [];

    /// <summary>Every workspace, ordered by workflow id.</summary>
    public IReadOnlyList<WorkspaceRecord> Workspaces { get; init; } = [];

    /// <summary>Every pending signal, ordered by workflow id then sequence.</summary>
    public IReadOnlyList<SignalRecord> Signals { get; init; } = [];

    /// <summary>Every key-value entry, ordered by namespace then key.</summary>
    public IReadOnlyList<KeyValueEntry> Values { get; init; } = [];

    /// <summary>Every checkpoint with its values, ordered by namespace then name.</summary>
    public IReadOnlyList<CheckpointRecord> Checkpoints { get; init; } = [];

    /// <summary>Whether the snapshot holds nothing at all.</summary>
    [JsonIgnore]
    public bool IsEmpty =>
        Workflows.Count == 0 && Steps.Count == 0 && Events.Count == 0 && Commands.Count == 0 &&
        Workspaces.Count == 0 && Signals.Count == 0 && Values.Count == 0 && Checkpoints.Count == 0;

    /// <summary>The same data with every list in canonical order; stores call this before returning an export.</summary>
    public StoreSnapshot Canonicalize() => this with
    {
        Workflows = Workflows.OrderBy(w => w.Id, StringComparer.Ordinal).ToArray(),
        Steps = Steps.OrderBy(s => s.WorkflowId, StringComparer.Ordinal).ThenBy(s => s.Sequence).ToArray(),
        Events = Events.OrderBy(e => e.WorkflowId, StringComparer.Ordinal).ThenBy(e => e.Sequence).ToArray(),
        Commands = Commands.OrderBy(c => c.WorkflowId, StringComparer.Ordinal).ThenBy(c => c.Sequence).ToArray(),
        Workspaces = Workspaces.OrderBy(w => w.WorkflowId, StringComparer.Ordinal).ToArray(),
        Signals = Signals.OrderBy(s => s.WorkflowId, StringComparer.Ordinal).ThenBy(s => s.Sequence).ToArray(),
        Values = Values.OrderBy(v => v.Namespace, StringComparer.Ordinal).ThenBy(v => v.Key, StringComparer.Ordinal).ToArray(),
        Checkpoints = Checkpoints.OrderBy(c => c.Namespace, StringComparer.Ordinal).ThenBy(c => c.Name, StringComparer.Ordinal).ToArray(),
    };
}
