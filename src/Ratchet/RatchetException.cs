namespace Ratchet;

/// <summary>The base of every error Ratchet raises on purpose. Stores translate their drivers' errors into these.</summary>
public abstract class RatchetException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected RatchetException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Whether trying the same operation again may succeed (a busy or unreachable store), as opposed to a mistake.</summary>
    public virtual bool IsTransient => false;

    /// <summary>A stable, machine-readable code for the CLI and logs, for example <c>workflow-not-found</c>.</summary>
    public abstract string ErrorCode { get; }
}

/// <summary>No workflow has the given id.</summary>
public sealed class WorkflowNotFoundException(string workflowId)
    : RatchetException($"No workflow has id '{workflowId}'.")
{
    /// <summary>The id that was looked up.</summary>
    public string WorkflowId { get; } = workflowId;

    /// <inheritdoc />
    public override string ErrorCode => "workflow-not-found";
}

/// <summary>A workflow was created with an id that is already taken.</summary>
public sealed class WorkflowAlreadyExistsException(string workflowId, string? message = null)
    : RatchetException(message ?? $"A workflow with id '{workflowId}' already exists. Choose another id, or load the existing workflow.")
{
    /// <summary>The id that was taken.</summary>
    public string WorkflowId { get; } = workflowId;

    /// <inheritdoc />
    public override string ErrorCode => "workflow-exists";
}

/// <summary>
/// A write expected a workflow at one version and the store holds another: someone else changed it first.
/// Reload the workflow and decide again.
/// </summary>
public sealed class WorkflowConcurrencyException(string workflowId, long expectedVersion, long actualVersion)
    : RatchetException($"Workflow '{workflowId}' was changed by someone else: expected version {expectedVersion}, found {actualVersion}. Reload it and try again.")
{
    /// <summary>The workflow written.</summary>
    public string WorkflowId { get; } = workflowId;

    /// <summary>The version the writer read.</summary>
    public long ExpectedVersion { get; } = expectedVersion;

    /// <summary>The version the store holds. (A write to a workflow that does not exist raises <see cref="WorkflowNotFoundException"/> instead.)</summary>
    public long ActualVersion { get; } = actualVersion;

    /// <inheritdoc />
    public override string ErrorCode => "version-conflict";
}

/// <summary>A key-value write expected an entry at one version and the store holds another.</summary>
public sealed class KeyValueConcurrencyException(string @namespace, string key, long expectedVersion, long actualVersion)
    : RatchetException($"Key '{key}' in namespace '{@namespace}' was changed by someone else: expected version {expectedVersion}, found {actualVersion}. Reload it and try again.")
{
    /// <summary>The namespace written.</summary>
    public string Namespace { get; } = @namespace;

    /// <summary>The key written.</summary>
    public string Key { get; } = key;

    /// <summary>The version the writer read (0: the writer expected no entry).</summary>
    public long ExpectedVersion { get; } = expectedVersion;

    /// <summary>The version the store holds (0: there is no entry).</summary>
    public long ActualVersion { get; } = actualVersion;

    /// <inheritdoc />
    public override string ErrorCode => "version-conflict";
}

/// <summary>A status change the workflow lifecycle does not allow.</summary>
public sealed class InvalidTransitionException : RatchetException
{
    /// <summary>Creates the exception with the standard message naming both states.</summary>
    public InvalidTransitionException(string workflowId, WorkflowStatus from, WorkflowStatus to)
        : this(workflowId, from, to, StandardMessage(workflowId, from, to))
    {
    }

    /// <summary>Creates the exception with a message of the caller's.</summary>
    public InvalidTransitionException(string workflowId, WorkflowStatus from, WorkflowStatus to, string message)
        : base(message)
    {
        WorkflowId = workflowId;
        From = from;
        To = to;
    }

    /// <summary>The workflow concerned.</summary>
    public string WorkflowId { get; }

    /// <summary>The status it is in.</summary>
    public WorkflowStatus From { get; }

    /// <summary>The status asked for.</summary>
    public WorkflowStatus To { get; }

    /// <inheritdoc />
    public override string ErrorCode => "invalid-transition";

    private static string StandardMessage(string workflowId, WorkflowStatus from, WorkflowStatus to)
    {
        var allowed = WorkflowLifecycle.NextStatuses(from);
        var rule = allowed.Count == 0
            ? $"{from} is terminal{(WorkflowLifecycle.CanRetry(from) ? " (use retry to run it again)" : "")}"
            : $"from {from} it can only move to {string.Join(", ", allowed)}";
        return $"Workflow '{workflowId}' cannot move from {from} to {to}: {rule}.";
    }
}

/// <summary>No checkpoint of that name exists in the namespace.</summary>
public sealed class CheckpointNotFoundException(string @namespace, string name)
    : RatchetException($"No checkpoint named '{name}' exists in namespace '{@namespace}'.")
{
    /// <summary>The namespace searched.</summary>
    public string Namespace { get; } = @namespace;

    /// <summary>The checkpoint name looked up.</summary>
    public string Name { get; } = name;

    /// <inheritdoc />
    public override string ErrorCode => "checkpoint-not-found";
}

/// <summary>An import into a store that already holds data, without asking to merge.</summary>
public sealed class StoreNotEmptyException(string storeDescription)
    : RatchetException($"The store {storeDescription} already holds data. Import into an empty store, or ask to merge (keep existing records, add the missing ones).")
{
    /// <inheritdoc />
    public override string ErrorCode => "store-not-empty";
}

/// <summary>The store cannot be reached or is busy right now (locked file, connection refused, I/O error).</summary>
public sealed class StoreUnavailableException(string message, Exception? innerException = null)
    : RatchetException(message, innerException)
{
    /// <inheritdoc />
    public override bool IsTransient => true;

    /// <inheritdoc />
    public override string ErrorCode => "store-unavailable";
}

/// <summary>The store's data is damaged or is not a Ratchet store at all. Nothing was written.</summary>
public sealed class StoreCorruptException(string message, Exception? innerException = null)
    : RatchetException(message, innerException)
{
    /// <inheritdoc />
    public override string ErrorCode => "store-corrupt";
}

/// <summary>
/// The store's schema does not match this binary: written by a newer Ratchet, or an applied migration differs
/// from the one this binary carries. Nothing was written.
/// </summary>
public sealed class StoreSchemaException(string message, int? storeVersion = null, int? supportedVersion = null)
    : RatchetException(message)
{
    /// <summary>The highest schema version the store records, when known.</summary>
    public int? StoreVersion { get; } = storeVersion;

    /// <summary>The highest schema version this binary knows.</summary>
    public int? SupportedVersion { get; } = supportedVersion;

    /// <inheritdoc />
    public override string ErrorCode => "store-schema";
}

/// <summary>A store operation failed for a reason that is neither the caller's mistake nor a known store condition.</summary>
public sealed class StoreOperationException(string message, Exception? innerException = null, bool isTransient = false)
    : RatchetException(message, innerException)
{
    /// <inheritdoc />
    public override bool IsTransient { get; } = isTransient;

    /// <inheritdoc />
    public override string ErrorCode => "store-error";
}
