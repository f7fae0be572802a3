using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Storage;

/// <summary>What a workflow write does with the workflow's lease.</summary>
public enum LeaseAction
{
    /// <summary>Leave the lease columns as the store holds them (ordinary writes never move a lease).</summary>
    Keep = 0,

    /// <summary>Clear the lease in the same commit, for a worker that is done with the workflow for now.</summary>
    Release = 1,
}

/// <summary>Whether a workflow write inserts a new workflow or updates a stored one.</summary>
public enum WorkflowWriteKind
{
    /// <summary>Insert; refused with <see cref="WorkflowAlreadyExistsException"/> if the id is taken.</summary>
    Create = 0,

    /// <summary>Update at <see cref="WorkflowRecord.Version"/>; refused with <see cref="WorkflowConcurrencyException"/> otherwise.</summary>
    Update = 1,
}

/// <summary>One workflow insert or update in a change set.</summary>
/// <param name="Kind">Insert or update.</param>
/// <param name="Record">The record to store. For an update, its <see cref="WorkflowRecord.Version"/> is the expected version.</param>
/// <param name="Lease">What happens to the lease. Creates store the record's own lease fields.</param>
public sealed record WorkflowWrite(WorkflowWriteKind Kind, WorkflowRecord Record, LeaseAction Lease);

/// <summary>A condition without a write: the workflow must still be at <paramref name="ExpectedVersion"/> (0: must not exist).</summary>
public sealed record WorkflowVersionCheck(string WorkflowId, long ExpectedVersion);

/// <summary>A condition without a write: the entry must still be at <paramref name="ExpectedVersion"/> (0: must not exist).</summary>
public sealed record KeyValueVersionCheck(string Namespace, string Key, long ExpectedVersion);

/// <summary>A key-value save (a value) or delete (no value), optionally conditional on the entry's version.</summary>
/// <param name="Namespace">The namespace.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">The value to save, or null to delete the key.</param>
/// <param name="ExpectedVersion">Null: unconditional. 0: the key must not exist. N: the entry must be at version N.</param>
public sealed record KeyValueWrite(string Namespace, string Key, JsonElement? Value, long? ExpectedVersion);

/// <summary>Consumes (deletes) the workflow's pending signal <paramref name="Sequence"/>; refused if it is not pending.</summary>
public sealed record SignalConsume(string WorkflowId, long Sequence);

/// <summary>A condition: no signal named <paramref name="Name"/> is pending for the workflow.</summary>
public sealed record SignalCheck(string WorkflowId, string Name);

/// <summary>
/// Writes that a store applies together or not at all: workflow inserts and updates (each with its expected version),
/// journal steps, audit events, command executions, workspaces and key-value writes.
/// </summary>
/// <remarks>
/// A change set is a builder: fill it, pass it to <see cref="IWorkflowStore.CommitAsync"/> once, then drop it.
/// Appended steps, events and commands get their per-workflow sequence numbers from the store, in the order added.
/// Checks are evaluated before any write, so a change set may check and write the same workflow. Workflow inserts and
/// updates are applied before steps, events, commands and workspaces, so a change set may create a workflow and append
/// to it whatever order the calls were made in.
/// </remarks>
public sealed class ChangeSet
{
    private List<WorkflowWrite>? _workflows;
    private List<WorkflowVersionCheck>? _checks;
    private List<KeyValueVersionCheck>? _valueChecks;
    private List<StepRecord>? _steps;
    private List<AuditEvent>? _events;
    private List<CommandExecution>? _commands;
    private List<WorkspaceRecord>? _workspaces;
    private List<KeyValueWrite>? _keyValues;
    private List<SignalRecord>? _signals;
    private List<SignalConsume>? _signalConsumes;
    private List<SignalCheck>? _signalChecks;

    /// <summary>Workflow inserts and updates, in order.</summary>
    public IReadOnlyList<WorkflowWrite> Workflows => _workflows ?? (IReadOnlyList<WorkflowWrite>)[];

    /// <summary>Version conditions on workflows that are read but not written.</summary>
    public IReadOnlyList<WorkflowVersionCheck> Checks => _checks ?? (IReadOnlyList<WorkflowVersionCheck>)[];

    /// <summary>Version conditions on key-value entries that are read but not written.</summary>
    public IReadOnlyList<KeyValueVersionCheck> ValueChecks => _valueChecks ?? (IReadOnlyList<KeyValueVersionCheck>)[];

    /// <summary>Journal entries to append.</summary>
    public IReadOnlyList<StepRecord> Steps => _steps ?? (IReadOnlyList<StepRecord>)[];

    /// <summary>Audit events to append.</summary>
    public IReadOnlyList<AuditEvent> Events => _events ?? (IReadOnlyList<AuditEvent>)[];

    /// <summary>Command executions to record.</summary>
    public IReadOnlyList<CommandExecution> Commands => _commands ?? (IReadOnlyList<CommandExecution>)[];

    /// <summary>Workspaces to insert or replace (keyed by workflow id).</summary>
    public IReadOnlyList<WorkspaceRecord> Workspaces => _workspaces ?? (IReadOnlyList<WorkspaceRecord>)[];

    /// <summary>Key-value saves and deletes.</summary>
    public IReadOnlyList<KeyValueWrite> KeyValues => _keyValues ?? (IReadOnlyList<KeyValueWrite>)[];

    /// <summary>Signals to buffer for workflows that do not wait for them yet, in order.</summary>
    public IReadOnlyList<SignalRecord> Signals => _signals ?? (IReadOnlyList<SignalRecord>)[];

    /// <summary>Pending signals to consume.</summary>
    public IReadOnlyList<SignalConsume> SignalConsumes => _signalConsumes ?? (IReadOnlyList<SignalConsume>)[];

    /// <summary>Conditions that no signal of a name is pending.</summary>
    public IReadOnlyList<SignalCheck> SignalChecks => _signalChecks ?? (IReadOnlyList<SignalCheck>)[];

    /// <summary>Whether the change set touches pending signals at all (stores skip that part of a commit otherwise).</summary>
    public bool HasSignals => _signals is not null || _signalConsumes is not null || _signalChecks is not null;

    /// <summary>Whether nothing was added.</summary>
    public bool IsEmpty =>
        _workflows is null && _checks is null && _valueChecks is null && _steps is null && _events is null &&
        _commands is null && _workspaces is null && _keyValues is null && !HasSignals;

    /// <summary>Inserts a new workflow (stored at version 1). Its own lease fields are stored as given.</summary>
    public ChangeSet CreateWorkflow(WorkflowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        WorkflowIds.Validate(record.Id, nameof(record));
        ValidateType(record);
        (_workflows ??= []).Add(new WorkflowWrite(WorkflowWriteKind.Create, record, LeaseAction.Keep));
        return this;
    }

    /// <summary>
    /// Updates a stored workflow, provided the store still holds <paramref name="record"/>'s
    /// <see cref="WorkflowRecord.Version"/>; the stored version then becomes that plus one.
    /// </summary>
    public ChangeSet UpdateWorkflow(WorkflowRecord record, LeaseAction lease = LeaseAction.Keep)
    {
        ArgumentNullException.ThrowIfNull(record);
        ValidateType(record);
        if (record.Version <= 0)
        {
            throw new ArgumentException(
                $"Workflow '{record.Id}' has version {record.Version}: update a record read from the store, or create it instead.",
                nameof(record));
        }

        (_workflows ??= []).Add(new WorkflowWrite(WorkflowWriteKind.Update, record, lease));
        return this;
    }

    /// <summary>Makes the commit conditional on a workflow still being at <paramref name="expectedVersion"/>.</summary>
    public ChangeSet ExpectWorkflowVersion(string workflowId, long expectedVersion)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        (_checks ??= []).Add(new WorkflowVersionCheck(workflowId, expectedVersion));
        return this;
    }

    /// <summary>Makes the commit conditional on an entry still being at <paramref name="expectedVersion"/> (0: absent).</summary>
    public ChangeSet ExpectValueVersion(string @namespace, string key, long expectedVersion)
    {
        KeyValueNames.Validate(@namespace, key);
        (_valueChecks ??= []).Add(new KeyValueVersionCheck(@namespace, key, expectedVersion));
        return this;
    }

    /// <summary>Appends a journal entry.</summary>
    public ChangeSet AppendStep(StepRecord step)
    {
        ArgumentNullException.ThrowIfNull(step);
        (_steps ??= []).Add(step);
        return this;
    }

    /// <summary>Appends an audit event.</summary>
    public ChangeSet AppendEvent(AuditEvent auditEvent)
    {
        ArgumentNullException.ThrowIfNull(auditEvent);
        ArgumentException.ThrowIfNullOrEmpty(auditEvent.Type, nameof(auditEvent));
        (_events ??= []).Add(auditEvent);
        return this;
    }

    /// <summary>Records a command a node ran.</summary>
    public ChangeSet RecordCommand(CommandExecution command)
    {
        ArgumentNullException.ThrowIfNull(command);
        (_commands ??= []).Add(command);
        return this;
    }

    /// <summary>Inserts or replaces the workspace of a workflow.</summary>
    public ChangeSet PutWorkspace(WorkspaceRecord workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        (_workspaces ??= []).Add(workspace);
        return this;
    }

    /// <summary>Saves a value; with <paramref name="expectedVersion"/>, only if the entry is at that version (0: absent).</summary>
    public ChangeSet SaveValue(string @namespace, string key, JsonElement value, long? expectedVersion = null)
    {
        KeyValueNames.Validate(@namespace, key);
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            throw new ArgumentException($"The value for key '{key}' is undefined JSON; pass a JSON value (null is allowed).", nameof(value));
        }

        RatchetJson.EnsureDepth(value, $"The value for key '{key}'");

        (_keyValues ??= []).Add(new KeyValueWrite(@namespace, key, value, expectedVersion));
        return this;
    }

    /// <summary>Deletes a key (a no-op if it is absent, unless <paramref name="expectedVersion"/> says otherwise).</summary>
    public ChangeSet DeleteValue(string @namespace, string key, long? expectedVersion = null)
    {
        KeyValueNames.Validate(@namespace, key);
        (_keyValues ??= []).Add(new KeyValueWrite(@namespace, key, null, expectedVersion));
        return this;
    }

    /// <summary>
    /// Buffers a signal for its workflow (which must exist), after its pending signals: the store gives it the next
    /// sequence. Signal conditions and consumes are evaluated before sends, against what the store held, so a change
    /// set cannot consume the signal it sends.
    /// </summary>
    public ChangeSet SendSignal(SignalRecord signal)
    {
        ArgumentNullException.ThrowIfNull(signal);
        WorkflowIds.Validate(signal.WorkflowId, nameof(signal));
        SignalNames.Validate(signal.Name, nameof(signal));
        RatchetJson.EnsureDepth(signal.Payload, $"The payload of signal '{signal.Name}'");
        (_signals ??= []).Add(signal);
        return this;
    }

    /// <summary>
    /// Consumes the workflow's pending signal <paramref name="sequence"/> (it is deleted); the commit is refused with
    /// <see cref="SignalConflictException"/> if that signal is not pending, so a signal is consumed once.
    /// </summary>
    public ChangeSet ConsumeSignal(string workflowId, long sequence)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sequence);
        (_signalConsumes ??= []).Add(new SignalConsume(workflowId, sequence));
        return this;
    }

    /// <summary>
    /// Makes the commit conditional on no signal named <paramref name="name"/> being pending for the workflow (after
    /// this change set's consumes); refused with <see cref="SignalConflictException"/> otherwise. A workflow that
    /// parks to wait for a signal commits with this, so a signal buffered meanwhile is never left behind.
    /// </summary>
    public ChangeSet ExpectNoPendingSignal(string workflowId, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        SignalNames.Validate(name, nameof(name));
        (_signalChecks ??= []).Add(new SignalCheck(workflowId, name));
        return this;
    }

    private static void ValidateType(WorkflowRecord record)
    {
        if (string.IsNullOrWhiteSpace(record.Type))
        {
            throw new ArgumentException($"Workflow '{record.Id}' has no type; give it the name of its definition.", nameof(record));
        }
    }
}

/// <summary>Rules for signal names.</summary>
public static class SignalNames
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a usable signal name (as a key: no control characters, no slashes, at most 256 characters).</summary>
    public static void Validate(string name, string parameterName)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("A signal name cannot be empty.", parameterName);
        }

        KeyValueNames.ValidateName(name, "signal name", parameterName);
    }
}

/// <summary>Rules for key-value namespaces, keys and checkpoint names.</summary>
internal static class KeyValueNames
{
    /// <summary>The longest namespace, key or checkpoint name.</summary>
    public const int MaxLength = 256;

    /// <summary>Throws <see cref="ArgumentException"/> unless the namespace and key are usable.</summary>
    public static void Validate(string @namespace, string key)
    {
        ValidateName(@namespace, "namespace", nameof(@namespace));
        ValidateName(key, "key", nameof(key));
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="value"/> is a usable name.</summary>
    public static void ValidateName(string value, string what, string parameterName)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"A {what} cannot be empty.", parameterName);
        }

        if (value.Length > MaxLength)
        {
            throw new ArgumentException($"The {what} '{value[..16]}…' is {value.Length} characters long; the limit is {MaxLength}.", parameterName);
        }

        foreach (var c in value)
        {
            if (char.IsControl(c) || c is '/' or '\\')
            {
                throw new ArgumentException($"The {what} '{value}' contains a control character, '/' or '\\'; those are not allowed.", parameterName);
            }
        }
    }
}
