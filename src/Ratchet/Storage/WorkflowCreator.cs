using System.Text.Json;
using Ratchet.Serialization;

namespace Ratchet.Storage;

/// <summary>What to create: the caller's part of a new workflow.</summary>
internal sealed record NewWorkflow
{
    /// <summary>The definition name.</summary>
    public required string Type { get; init; }

    /// <summary>An id of the caller's; null to generate one. Creating an id that exists returns the existing workflow.</summary>
    public string? Id { get; init; }

    /// <summary>The input.</summary>
    public JsonElement? Input { get; init; }

    /// <summary>Free-form metadata.</summary>
    public JsonElement? Metadata { get; init; }

    /// <summary>The parent, for a sub-workflow.</summary>
    public string? ParentId { get; init; }

    /// <summary>The definition's version hash.</summary>
    public string DefinitionVersion { get; init; } = "";

    /// <summary>The first node to run.</summary>
    public string? StartNode { get; init; }

    /// <summary>When it becomes due; null for now.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>The <c>traceparent</c> of the starting operation.</summary>
    public string? TraceParent { get; init; }

    /// <summary>The queue it runs in, its partition key and priority there; null for none.</summary>
    public string? Queue { get; init; }

    /// <summary>Its partition key in <see cref="Queue"/>.</summary>
    public string? QueuePartition { get; init; }

    /// <summary>Its priority in <see cref="Queue"/> (higher first).</summary>
    public int QueuePriority { get; init; }
}

/// <summary>The outcome of <see cref="WorkflowCreator.CreateAsync(NewWorkflow, CancellationToken)"/>.</summary>
/// <param name="Workflow">The workflow as stored.</param>
/// <param name="Created">False when the id already existed and the existing workflow was returned.</param>
internal sealed record CreateWorkflowResult(WorkflowRecord Workflow, bool Created);

/// <summary>
/// Creates workflows with a <c>created</c> audit event in the same commit: generated ids are regenerated on collision;
/// a caller-supplied id that exists returns the existing workflow (idempotent start), never a duplicate.
/// </summary>
internal sealed class WorkflowCreator
{
    /// <summary>How many generated ids to try before giving up; 40 random bits make even two collisions unlikely.</summary>
    public const int MaxGeneratedIdAttempts = 8;

    private readonly IWorkflowStore _store;
    private readonly TimeProvider _clock;
    private readonly IWorkflowIdGenerator _ids;

    /// <summary>Creates the creator.</summary>
    public WorkflowCreator(IWorkflowStore store, TimeProvider? clock = null, IWorkflowIdGenerator? ids = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _clock = clock ?? TimeProvider.System;
        _ids = ids ?? CrockfordIdGenerator.Instance;
    }

    /// <summary>The record a new workflow starts as, before it is stored.</summary>
    public WorkflowRecord Build(NewWorkflow request, string id)
    {
        ArgumentNullException.ThrowIfNull(request);
        RatchetJson.EnsureInputDepth(request.Input);
        RatchetJson.EnsureDepth(request.Metadata, "The workflow's metadata");
        var now = _clock.GetStoreNow();
        return new WorkflowRecord
        {
            Id = id,
            Type = request.Type,
            DefinitionVersion = request.DefinitionVersion,
            Status = WorkflowStatus.Pending,
            CurrentNode = request.StartNode,
            Input = request.Input,
            Metadata = request.Metadata,
            ParentId = request.ParentId,
            DueAt = request.DueAt is { } due ? StoreTime.Truncate(due) : now,
            TraceParent = request.TraceParent,
            CreatedAt = now,
            UpdatedAt = now,
            Queue = request.Queue,
            QueuePartition = request.Queue is null ? null : request.QueuePartition,
            QueuePriority = request.Queue is null ? 0 : request.QueuePriority,
        };
    }

    /// <summary>Creates the workflow, or returns the existing one when <see cref="NewWorkflow.Id"/> is taken by the same type.</summary>
    /// <exception cref="WorkflowAlreadyExistsException">The id is taken by a workflow of another type.</exception>
    public Task<CreateWorkflowResult> CreateAsync(NewWorkflow request, CancellationToken cancellationToken = default) =>
        CreateAsync(request, customize: null, cancellationToken);

    /// <summary>
    /// Creates the workflow like <see cref="CreateAsync(NewWorkflow, CancellationToken)"/>, letting
    /// <paramref name="customize"/> shape the record (for example an engine that starts it at once) and add to the same
    /// commit. <paramref name="customize"/> may run more than once, once per id tried.
    /// </summary>
    public async Task<CreateWorkflowResult> CreateAsync(NewWorkflow request, Func<WorkflowRecord, ChangeSet, WorkflowRecord>? customize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Type))
        {
            throw new ArgumentException("A workflow needs a type: the name of its definition.", nameof(request));
        }

        if (request.Id is { } suppliedId)
        {
            WorkflowIds.Validate(suppliedId, nameof(request));
            var existing = await _store.GetWorkflowAsync(suppliedId, cancellationToken);
            if (existing is not null)
            {
                return Existing(existing, request);
            }

            try
            {
                return new CreateWorkflowResult(await CommitNewAsync(request, suppliedId, customize, cancellationToken), Created: true);
            }
            catch (WorkflowAlreadyExistsException)
            {
                // Another caller created it between our read and our commit: theirs is the one.
                existing = await _store.GetWorkflowAsync(suppliedId, cancellationToken)
                    ?? throw new WorkflowAlreadyExistsException(suppliedId);
                return Existing(existing, request);
            }
        }

        for (var attempt = 1; ; attempt++)
        {
            var id = _ids.NewId();
            try
            {
                return new CreateWorkflowResult(await CommitNewAsync(request, id, customize, cancellationToken), Created: true);
            }
            catch (WorkflowAlreadyExistsException) when (attempt < MaxGeneratedIdAttempts)
            {
                // A generated id collided: draw another.
            }
        }
    }

    private async Task<WorkflowRecord> CommitNewAsync(NewWorkflow request, string id, Func<WorkflowRecord, ChangeSet, WorkflowRecord>? customize, CancellationToken cancellationToken)
    {
        var record = Build(request, id);
        var changes = new ChangeSet()
            .AppendEvent(new AuditEvent
            {
                WorkflowId = id,
                Type = AuditEventTypes.Created,
                Payload = RatchetJson.ToElement(new Dictionary<string, string> { ["type"] = record.Type }),
                At = record.CreatedAt,
            });
        if (customize is not null)
        {
            record = customize(record, changes);
        }

        // Stores apply workflow writes before events, so the order within the change set does not matter.
        changes.CreateWorkflow(record);
        await _store.CommitAsync(changes, cancellationToken);
        return record with { Version = 1 };
    }

    private static CreateWorkflowResult Existing(WorkflowRecord existing, NewWorkflow request)
    {
        if (!string.Equals(existing.Type, request.Type, StringComparison.Ordinal))
        {
            throw new WorkflowAlreadyExistsException(existing.Id,
                $"Workflow id '{existing.Id}' is already used by a workflow of type '{existing.Type}', not '{request.Type}'. Choose another id.");
        }

        return new CreateWorkflowResult(existing, Created: false);
    }
}
