using System.Globalization;
using System.Text;
using Ratchet.Storage;

namespace Ratchet.Files;

public sealed partial class FilesRatchetStore
{
    /// <inheritdoc />
    public Task<WorkflowRecord?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        return RunAsync(session => session.Workflow(id), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Reads every workflow's <c>state.json</c>, then filters, sorts and pages in memory.</remarks>
    public Task<WorkflowPage> ListWorkflowsAsync(WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > WorkflowQuery.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.Limit, $"A page holds 1 to {WorkflowQuery.MaxLimit} workflows.");
        }

        var after = query.PageToken is null ? default((long, string)?) : ParsePageToken(query.PageToken);
        return RunAsync(session =>
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
                (after is not var (afterCreated, afterId) || IsAfter(w, afterCreated, afterId, descending)));
            var ordered = descending
                ? matching.OrderByDescending(w => Micros(w.CreatedAt)).ThenByDescending(w => w.Id, StringComparer.Ordinal)
                : matching.OrderBy(w => Micros(w.CreatedAt)).ThenBy(w => w.Id, StringComparer.Ordinal);
            var items = ordered.Take(query.Limit + 1).ToList();
            string? next = null;
            if (items.Count > query.Limit)
            {
                items.RemoveAt(items.Count - 1);
                var last = items[^1];
                next = FormatPageToken(Micros(last.CreatedAt), last.Id);
            }

            return new WorkflowPage(items, next);
        }, cancellationToken);
    }

    private static bool IsAfter(WorkflowRecord workflow, long afterCreated, string afterId, bool descending)
    {
        var created = Micros(workflow.CreatedAt);
        var byCreated = created.CompareTo(afterCreated);
        var order = byCreated != 0 ? byCreated : string.CompareOrdinal(workflow.Id, afterId);
        return descending ? order < 0 : order > 0;
    }

    private static long Micros(DateTimeOffset time) => StoreTime.ToMicroseconds(time);

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkflowRecord>> GetDueWorkflowsAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return RunAsync<IReadOnlyList<WorkflowRecord>>(
            session => Due(session.AllWorkflows(OnDamage.Skip), StoreTime.Truncate(asOf)).Take(limit).ToList(), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StepRecord>> GetStepsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return RunAsync<IReadOnlyList<StepRecord>>(session => session.Steps(workflowId).ToArray(), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AuditEvent>> GetEventsAsync(string workflowId, long afterSequence = 0, int limit = int.MaxValue, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return RunAsync<IReadOnlyList<AuditEvent>>(
            session => session.Events(workflowId).Where(e => e.Sequence > afterSequence).Take(limit).ToArray(), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CommandExecution>> GetCommandsAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return RunAsync<IReadOnlyList<CommandExecution>>(session => session.Commands(workflowId).ToArray(), cancellationToken);
    }

    /// <inheritdoc />
    public Task<WorkspaceRecord?> GetWorkspaceAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workflowId);
        return RunAsync(session => session.Workspace(workflowId), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<WorkspaceRecord>> ListWorkspacesAsync(WorkspaceStatus? status = null, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<WorkspaceRecord>>(session => session.AllWorkflows(OnDamage.Skip)
            .Select(w => session.WorkspaceOrSkip(w.Id))
            .OfType<WorkspaceRecord>()
            .Where(w => status is null || w.Status == status)
            .OrderBy(w => w.WorkflowId, StringComparer.Ordinal)
            .ToArray(), cancellationToken);

    /// <inheritdoc />
    public Task<KeyValueEntry?> GetValueAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        KeyValueNames.Validate(@namespace, key);
        return RunAsync(session => session.Value(@namespace, key), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<KeyValueEntry>> ListValuesAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        return RunAsync<IReadOnlyList<KeyValueEntry>>(session => session.Values(@namespace), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ListNamespacesAsync(CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<string>>(session => session.Namespaces(OnDamage.Skip), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<CheckpointInfo>> ListCheckpointsAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        return RunAsync<IReadOnlyList<CheckpointInfo>>(session => session.Checkpoints(@namespace, OnDamage.Skip)
            .OrderBy(c => c.CreatedAt)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new CheckpointInfo { Namespace = c.Namespace, Name = c.Name, CreatedAt = c.CreatedAt, EntryCount = c.Entries.Count })
            .ToArray(), cancellationToken);
    }

    /// <inheritdoc />
    public Task<CheckpointRecord?> GetCheckpointAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        KeyValueNames.ValidateName(@namespace, "namespace", nameof(@namespace));
        KeyValueNames.ValidateName(name, "checkpoint name", nameof(name));
        return RunAsync(session => session.Checkpoint(@namespace, name), cancellationToken);
    }

    /// <inheritdoc />
    public Task<StoreSnapshot> ExportAsync(CancellationToken cancellationToken = default) =>
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
                Values = namespaces.SelectMany(session.Values).ToArray(),
                Checkpoints = namespaces.SelectMany(n => session.Checkpoints(n, OnDamage.Refuse)).ToArray(),
            }.Canonicalize();
        }, cancellationToken);

    private static string FormatPageToken(long createdMicros, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{createdMicros}:{id}")));

    private static (long, string) ParsePageToken(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.Integer, CultureInfo.InvariantCulture, out var created))
            {
                return (created, text[(colon + 1)..]);
            }
        }
        catch (FormatException)
        {
            // Falls through to the refusal below.
        }

        throw new ArgumentException($"The page token '{token}' was not issued by this store; pass the NextPageToken of a previous page, or none.", nameof(token));
    }
}
