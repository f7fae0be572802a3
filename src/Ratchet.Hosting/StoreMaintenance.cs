using System.Globalization;
using System.Text;
using System.Text.Json;
using Ratchet.Agents;
using Ratchet.Engine;
using Ratchet.Serialization;
using Ratchet.Storage;
using Ratchet.Yaml;

namespace Ratchet.Hosting;

/// <summary>What <see cref="StoreMaintenance.CleanupAsync"/> removes.</summary>
public sealed record CleanupOptions
{
    /// <summary>Only find what would be removed; change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>
    /// Also delete Failed and Cancelled workflows that ended longer ago than this (with their journal, events, commands,
    /// workspace, run folder and phase record). Null: no workflow is deleted. Completed workflows are never deleted.
    /// </summary>
    public TimeSpan? OlderThan { get; init; }
}

/// <summary>A workspace directory that cleanup removed (or would remove), and its workflow.</summary>
/// <param name="Workspace">The workspace record.</param>
/// <param name="Workflow">Its workflow, which has ended.</param>
public sealed record RemovedWorkspace(WorkspaceRecord Workspace, WorkflowRecord Workflow);

/// <summary>What cleanup removed, or would remove.</summary>
/// <param name="DryRun">Whether nothing was changed.</param>
/// <param name="DeletedBefore">The end time before which failed and cancelled workflows were deleted; null when none were.</param>
/// <param name="Workspaces">The workspace directories of ended workflows, in the store's order.</param>
/// <param name="Workflows">The workflows deleted.</param>
public sealed record CleanupReport(bool DryRun, DateTimeOffset? DeletedBefore, IReadOnlyList<RemovedWorkspace> Workspaces, IReadOnlyList<WorkflowRecord> Workflows);

/// <summary>Everything the store holds about one workflow, for a screen to show (<c>state show</c>) or serialize.</summary>
/// <param name="Workflow">The workflow.</param>
/// <param name="Steps">Its journal.</param>
/// <param name="Events">Its audit events.</param>
/// <param name="Commands">The commands its nodes ran.</param>
/// <param name="Workspace">Its workspace, if it has one.</param>
/// <param name="Children">The sub-workflows it started, archived ones included.</param>
public sealed record WorkflowSummary(
    WorkflowRecord Workflow,
    IReadOnlyList<StepRecord> Steps,
    IReadOnlyList<AuditEvent> Events,
    IReadOnlyList<CommandExecution> Commands,
    WorkspaceRecord? Workspace,
    IReadOnlyList<WorkflowRecord> Children)
{
    /// <summary>
    /// What a workflow waiting for approval asks: the prompt as rendered when it parked, kept in its last
    /// <c>waiting</c> event (the definition only has the template). Null otherwise.
    /// </summary>
    public string? ApprovalPrompt
    {
        get
        {
            if (Workflow is not { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Approval })
            {
                return null;
            }

            var parked = Events.LastOrDefault(e => e.Type == AuditEventTypes.Waiting && e.Node == Workflow.CurrentNode);
            return parked?.Payload is { ValueKind: JsonValueKind.Object } payload && payload.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String
                ? prompt.GetString()
                : null;
        }
    }

    /// <summary>Whether the workflow is run by phases rather than by a definition.</summary>
    public bool RunByPhases => PhaseWorkflows.IsPhaseWorkflow(Workflow) || Workflow.DefinitionVersion.Length == 0;

    /// <summary>Whether its workspace's directory is still there.</summary>
    public bool WorkspaceExists => Workspace is not null && Directory.Exists(Workspace.Path);
}

/// <summary>The formats an export is written in.</summary>
public enum ExportFormat
{
    /// <summary>One snapshot document.</summary>
    Json,

    /// <summary>A header line, then one line per record with a <c>kind</c> (see <see cref="StoreJsonLines"/>).</summary>
    JsonLines,
}

/// <summary>An export that cannot be read: not JSON, not a Ratchet export, or from a newer Ratchet. Nothing was imported.</summary>
public sealed class InvalidExportException(string message) : RatchetException(message)
{
    /// <inheritdoc />
    public override string ErrorCode => "invalid-export";
}

/// <summary>
/// Looking after a store, for every screen: cleanup of ended workflows' workspaces (and of old failures), archive,
/// the summary of one workflow, export and import in both formats.
/// </summary>
public sealed class StoreMaintenance
{
    private readonly IRatchetStore _store;
    private readonly RatchetFolders _folders;
    private readonly TimeProvider _clock;

    /// <summary>Maintenance of <paramref name="store"/>, whose run folders are in <paramref name="folders"/>.</summary>
    public StoreMaintenance(IRatchetStore store, RatchetFolders folders, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(folders);
        _store = store;
        _folders = folders;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>
    /// Removes the workspace directories of workflows that have ended (completed, failed, cancelled), orphaned ones
    /// included, and with <see cref="CleanupOptions.OlderThan"/> deletes old failed and cancelled workflows. The
    /// workspace of a workflow that is still pending, running or waiting is never touched: it resumes in it.
    /// </summary>
    public async Task<CleanupReport> CleanupAsync(CleanupOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cutoff = options.OlderThan is { } age ? _clock.GetStoreNow() - age : (DateTimeOffset?)null;
        var doomed = cutoff is { } before
            ? (await _store.ListAllWorkflowsAsync(new WorkflowQuery { Statuses = [WorkflowStatus.Failed, WorkflowStatus.Cancelled], IncludeArchived = true }, cancellationToken))
                .Where(w => (w.CompletedAt ?? w.UpdatedAt) < before).ToList()
            : [];
        var doomedIds = doomed.Select(w => w.Id).ToHashSet(StringComparer.Ordinal);

        var removed = new List<RemovedWorkspace>();
        foreach (var workspace in await _store.ListWorkspacesAsync(cancellationToken: cancellationToken))
        {
            var workflow = await _store.GetWorkflowAsync(workspace.WorkflowId, cancellationToken);

            // An active workflow resumes in its workspace, even one a worker marked orphaned after a long wait.
            if (workflow is null || !workflow.IsTerminal || !Directory.Exists(workspace.Path))
            {
                continue;
            }

            removed.Add(new RemovedWorkspace(workspace, workflow));
            if (options.DryRun)
            {
                continue;
            }

            await Workspaces.RemoveAsync(workspace, cancellationToken);

            // An ended workflow's workspace is no longer active; orphaned, completed and failed marks are kept as they are.
            if (workspace.Status == WorkspaceStatus.Active && !doomedIds.Contains(workflow.Id))
            {
                var status = workflow.Status == WorkflowStatus.Completed ? WorkspaceStatus.Completed : WorkspaceStatus.Failed;
                await _store.CommitAsync(new ChangeSet().PutWorkspace(workspace with { Status = status }), cancellationToken);
            }
        }

        if (!options.DryRun)
        {
            foreach (var workflow in doomed)
            {
                var runFolder = _folders.RunFolder(workflow.Id);
                if (Directory.Exists(runFolder))
                {
                    Directory.Delete(runFolder, recursive: true);
                }

                // A phase cancelled in flight is still recorded; it goes with its workflow.
                await _store.CommitAsync(new ChangeSet().DeleteValue(PhaseWorkflows.Namespace, workflow.Id), cancellationToken);
                await _store.DeleteWorkflowAsync(workflow.Id, cancellationToken);
            }
        }

        return new CleanupReport(options.DryRun, cutoff, removed, doomed);
    }

    /// <summary>Archives the workflows that ended longer ago than <paramref name="olderThan"/>; returns how many, and the cut-off.</summary>
    public async Task<(int Archived, DateTimeOffset EndedBefore)> ArchiveAsync(TimeSpan olderThan, CancellationToken cancellationToken = default)
    {
        var before = _clock.GetStoreNow() - olderThan;
        return (await _store.ArchiveWorkflowsAsync(before, cancellationToken), before);
    }

    /// <summary>Everything the store holds about workflow <paramref name="workflowId"/>.</summary>
    /// <exception cref="WorkflowNotFoundException">There is no such workflow.</exception>
    public async Task<WorkflowSummary> SummarizeAsync(string workflowId, CancellationToken cancellationToken = default)
    {
        var workflow = await _store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
        var steps = await _store.GetStepsAsync(workflow.Id, cancellationToken);
        var events = await _store.GetEventsAsync(workflow.Id, cancellationToken: cancellationToken);
        var commands = await _store.GetCommandsAsync(workflow.Id, cancellationToken);
        var workspace = await _store.GetWorkspaceAsync(workflow.Id, cancellationToken);
        var children = await _store.ListAllWorkflowsAsync(new WorkflowQuery { ParentId = workflow.Id, IncludeArchived = true }, cancellationToken);
        return new WorkflowSummary(workflow, steps, events, commands, workspace, children);
    }

    /// <summary>Everything the store holds, in canonical order; <paramref name="omitSecrets"/> leaves providers' (encrypted) API keys out.</summary>
    public async Task<StoreSnapshot> ExportAsync(bool omitSecrets = false, CancellationToken cancellationToken = default)
    {
        var snapshot = await _store.ExportAsync(cancellationToken);
        return omitSecrets ? AgentDirectory.OmitSecrets(snapshot) : snapshot;
    }

    /// <summary>Writes <paramref name="snapshot"/> in <paramref name="format"/>.</summary>
    public static async Task WriteAsync(TextWriter output, StoreSnapshot snapshot, ExportFormat format, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (format == ExportFormat.JsonLines)
        {
            StoreJsonLines.Write(output, snapshot);
            return;
        }

        using var buffer = new MemoryStream();
        await RatchetJson.WriteSnapshotAsync(buffer, snapshot, cancellationToken);
        await output.WriteLineAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    /// <summary>Writes <paramref name="snapshot"/> to the file at <paramref name="path"/>, whole or not at all (beside it, then moved over it).</summary>
    public static async Task WriteFileAsync(string path, StoreSnapshot snapshot, ExportFormat format, CancellationToken cancellationToken = default)
    {
        var full = Path.GetFullPath(path);
        var temporary = full + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            await using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                if (format == ExportFormat.JsonLines)
                {
                    await using var writer = new StreamWriter(file, new UTF8Encoding(false));
                    StoreJsonLines.Write(writer, snapshot);
                }
                else
                {
                    await RatchetJson.WriteSnapshotAsync(file, snapshot, cancellationToken);
                }
            }

            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Reads an export in either format: JSON lines when the first line is a record with a <c>kind</c>, else one snapshot document.</summary>
    /// <param name="text">The export.</param>
    /// <param name="source">Where it came from, for messages.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <exception cref="InvalidExportException">It is not an export this Ratchet reads.</exception>
    public static async Task<StoreSnapshot> ReadExportAsync(string text, string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (StoreJsonLines.Looks(text))
        {
            return StoreJsonLines.Read(text, source);
        }

        try
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
            return await RatchetJson.ReadSnapshotAsync(stream, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw new InvalidExportException($"{source} is not a Ratchet export (json or jsonl): {ex.Message}");
        }
    }

    /// <summary>Imports <paramref name="snapshot"/>, atomically; into a store that holds data only with <paramref name="merge"/> (keeping what it has).</summary>
    /// <exception cref="StoreNotEmptyException">The store holds data and <paramref name="merge"/> is false; nothing was imported.</exception>
    public Task ImportAsync(StoreSnapshot snapshot, bool merge, CancellationToken cancellationToken = default) =>
        _store.ImportAsync(snapshot, merge ? ImportMode.Merge : ImportMode.EmptyStoreOnly, cancellationToken);
}
