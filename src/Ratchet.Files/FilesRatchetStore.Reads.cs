using Ratchet.Storage;

namespace Ratchet.Files;

public sealed partial class FilesRatchetStore
{
    /// <inheritdoc />
    protected override Task<WorkflowRecord?> GetWorkflowCoreAsync(string id, CancellationToken cancellationToken) =>
        RunAsync(session => session.Workflow(id), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Reads every workflow's <c>state.json</c>, then filters, sorts and pages in memory.</remarks>
    protected override Task<IReadOnlyList<WorkflowRecord>> ListWorkflowsCoreAsync(WorkflowQuery query, WorkflowPosition? after, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<WorkflowRecord>>(session =>
        {
            var statuses = query.Statuses is { Count: > 0 } s ? s.ToHashSet() : null;
            var types = query.Types is { Count: > 0 } t ? t.ToHashSet(StringComparer.Ordinal) : null;
            var descending = query.Order == ListOrder.NewestFirst;
            var matching = session.AllWorkflows(OnDamage.Skip).Where(w =>
                (query.IncludeArchived || w.ArchivedAt is null) &&
                (statuses is null || statuses.Contains(w.Status)) &&
                (types is null || types.Contains(w.Type)) &&
                (query.ParentId is null || w.ParentId == query.ParentId) &&
                (query.CreatedFrom is not { } createdFrom || Micros(w.CreatedAt) >= Micros(createdFrom)) &&
                (query.CreatedTo is not { } createdTo || Micros(w.CreatedAt) < Micros(createdTo)) &&
                (query.UpdatedFrom is not { } updatedFrom || Micros(w.UpdatedAt) >= Micros(updatedFrom)) &&
                (query.UpdatedTo is not { } updatedTo || Micros(w.UpdatedAt) < Micros(updatedTo)) &&
                (after is not { } position || position.Precedes(w, query.Order)));
            var ordered = descending
                ? matching.OrderByDescending(w => Micros(w.CreatedAt)).ThenByDescending(w => w.Id, StringComparer.Ordinal)
                : matching.OrderBy(w => Micros(w.CreatedAt)).ThenBy(w => w.Id, StringComparer.Ordinal);
            return ordered.Take(query.Limit + 1).ToList();
        }, cancellationToken);

    private static long Micros(DateTimeOffset time) => StoreTime.ToMicroseconds(time);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsCoreAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<WorkflowRecord>>(
            session => Due(session.AllWorkflows(OnDamage.Skip), StoreTime.Truncate(asOf)).Take(limit).ToList(), cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<StepRecord>> GetStepsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<StepRecord>>(session => session.Steps(workflowId).ToArray(), cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<AuditEvent>> GetEventsCoreAsync(string workflowId, long afterSequence, int limit, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<AuditEvent>>(
            session => session.Events(workflowId).Where(e => e.Sequence > afterSequence).Take(limit).ToArray(), cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<CommandExecution>> GetCommandsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<CommandExecution>>(session => session.Commands(workflowId).ToArray(), cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<SignalRecord>> GetPendingSignalsCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<SignalRecord>>(session => session.Signals(workflowId).ToArray(), cancellationToken);

    /// <inheritdoc />
    protected override Task<WorkspaceRecord?> GetWorkspaceCoreAsync(string workflowId, CancellationToken cancellationToken) =>
        RunAsync(session => session.Workspace(workflowId), cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<WorkspaceRecord>>(session => session.AllWorkflows(OnDamage.Skip)
            .Select(w => session.WorkspaceOrSkip(w.Id))
            .OfType<WorkspaceRecord>()
            .Where(w => status is null || w.Status == status)
            .OrderBy(w => w.WorkflowId, StringComparer.Ordinal)
            .ToArray(), cancellationToken);

    /// <inheritdoc />
    protected override Task<KeyValueEntry?> GetValueCoreAsync(string @namespace, string key, CancellationToken cancellationToken) =>
        RunAsync(session => session.Value(@namespace, key), cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<KeyValueEntry>> ListValuesCoreAsync(string @namespace, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<KeyValueEntry>>(session => session.Values(@namespace), cancellationToken);

    /// <inheritdoc />
    public override Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<string>>(session => session.Namespaces(OnDamage.Skip), cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsCoreAsync(string @namespace, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<CheckpointInfo>>(session => session.Checkpoints(@namespace, OnDamage.Skip)
            .OrderBy(c => c.CreatedAt)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new CheckpointInfo { Namespace = c.Namespace, Name = c.Name, CreatedAt = c.CreatedAt, EntryCount = c.Entries.Count })
            .ToArray(), cancellationToken);

    /// <inheritdoc />
    protected override Task<CheckpointRecord?> GetCheckpointCoreAsync(string @namespace, string name, CancellationToken cancellationToken) =>
        RunAsync(session => session.Checkpoint(@namespace, name), cancellationToken);

    /// <inheritdoc />
    public override Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default) =>
        RunAsync(session =>
        {
            // One lock held throughout: every file is read at the same moment. A damaged file refuses the export,
            // which would otherwise pass for the whole store and leave the record out of a restore made from it.
            var workflows = session.AllWorkflows(OnDamage.Refuse);
            var namespaces = session.Namespaces(OnDamage.Refuse);
            return new StoreSnapshot
            {
                Workflows = workflows,
                Steps = workflows.SelectMany(w => session.Steps(w.Id)).ToArray(),
                Events = workflows.SelectMany(w => session.Events(w.Id)).ToArray(),
                Commands = workflows.SelectMany(w => session.Commands(w.Id)).ToArray(),
                Workspaces = workflows.Select(w => session.Workspace(w.Id)).OfType<WorkspaceRecord>().ToArray(),
                Signals = workflows.SelectMany(w => session.Signals(w.Id)).ToArray(),
                Values = namespaces.SelectMany(session.Values).ToArray(),
                Checkpoints = namespaces.SelectMany(n => session.Checkpoints(n, OnDamage.Refuse)).ToArray(),
            }.Canonicalize();
        }, cancellationToken);
}
