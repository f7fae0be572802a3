using System.Buffers;
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Ratchet.Hosting;
using Ratchet.Serialization;
using Ratchet.Storage;
using Ratchet.Yaml;

namespace Ratchet.Cli.Commands;

/// <summary><c>state list|show|cleanup|archive|export|import|backup|new</c>: inspecting and looking after the store.</summary>
internal static class StateCommands
{
    /// <summary>How many characters of an artifact <c>state show</c> prints on a terminal before cutting it.</summary>
    private const int MaxArtifactCharacters = 2000;

    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        var state = new Command("state", "Inspect and look after workflows and the store: list, show, cleanup, archive, export, import, backup, new.")
        {
            List(output, error),
            Show(output, error),
            Cleanup(output, error),
            Archive(output, error),
            Export(output, error),
            Import(output, error),
            Backup(output, error),
            New(output, error),
        };
        yield return state;
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        var statuses = new Option<string[]>("--status", "-s") { Description = "Only workflows in this status (pending, running, waiting, completed, failed, cancelled, or active = pending+running+waiting); repeat or separate with commas." };
        var types = new Option<string[]>("--type", "-t") { Description = "Only workflows of this type; repeat or separate with commas." };
        var since = new Option<string?>("--since") { Description = "Only workflows created since: a duration back from now (2h, 7d) or a date/time (2025-01-31, 2025-01-31T08:00:00Z; UTC unless it gives an offset)." };
        var all = new Option<bool>("--all", "-a") { Description = "Include archived workflows (left out by default)." };
        var limit = new Option<int>("--limit", "-n") { Description = "At most this many workflows, newest first.", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "List workflows, newest first: all statuses unless --status says otherwise, archived ones only with --all. --json prints the workflow records.")
        {
            statuses, types, since, all, limit,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var max = parse.GetValue(limit);
            if (max < 1)
            {
                throw new UsageException($"--limit is {max}; it must be at least 1.");
            }

            var query = new WorkflowQuery
            {
                Statuses = ParseStatuses(parse.GetValue(statuses) ?? []),
                Types = Split(parse.GetValue(types) ?? []),
                CreatedFrom = parse.GetValue(since) is { } text ? ParseSince(text) : null,
                IncludeArchived = parse.GetValue(all),
                Order = ListOrder.NewestFirst,
                Limit = Math.Min(max, WorkflowQuery.MaxLimit),
            };
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var workflows = new List<WorkflowRecord>();
            string? more;
            while (true)
            {
                var page = await store.ListWorkflowsAsync(query, cancellationToken);
                workflows.AddRange(page.Items);
                more = page.NextPageToken;
                if (more is null || workflows.Count >= max)
                {
                    break;
                }

                query = query with { PageToken = more, Limit = Math.Min(max - workflows.Count, WorkflowQuery.MaxLimit) };
            }

            if (context.Json)
            {
                WriteJsonArray(context.Output, workflows, RatchetJsonContext.Indented.WorkflowRecord);
            }
            else if (workflows.Count == 0 && context.IsTerminal)
            {
                await context.Output.WriteLineAsync("No workflows match.");
            }
            else
            {
                context.WriteTable(["ID", "TYPE", "STATUS", "NODE", "ATTEMPT", "CREATED", "UPDATED"], workflows.Select(w => (IReadOnlyList<string>)
                [
                    w.Id, w.Type, StatusText(w), w.CurrentNode ?? "", w.Attempt.ToString(CultureInfo.InvariantCulture), Time(w.CreatedAt), Time(w.UpdatedAt),
                ]));
            }

            if (more is not null)
            {
                await context.Error.WriteLineAsync($"ratchet: showing the newest {workflows.Count}; more match (raise --limit to see them).");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var id = new Argument<string>("id") { Description = "The workflow's id." };
        var command = new Command("show",
            "Show a workflow: status (and what it waits for, or its error), input, node timeline, artifacts, commands, workspace and sub-workflows. " +
            "--json prints {workflow, steps, events, commands, workspace, children}.")
        {
            id,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var summary = await new StoreMaintenance(store, context.Folders).SummarizeAsync(parse.GetValue(id)!, cancellationToken);
            if (context.Json)
            {
                WriteJsonObject(context.Output, writer =>
                {
                    var json = RatchetJsonContext.Indented;
                    writer.WritePropertyName("workflow");
                    JsonSerializer.Serialize(writer, summary.Workflow, json.WorkflowRecord);
                    WriteArrayProperty(writer, "steps", summary.Steps, json.StepRecord);
                    WriteArrayProperty(writer, "events", summary.Events, json.AuditEvent);
                    WriteArrayProperty(writer, "commands", summary.Commands, json.CommandExecution);
                    writer.WritePropertyName("workspace");
                    if (summary.Workspace is null)
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        JsonSerializer.Serialize(writer, summary.Workspace, json.WorkspaceRecord);
                    }

                    WriteArrayProperty(writer, "children", summary.Children, json.WorkflowRecord);
                });
                return ExitCodes.Ok;
            }

            WriteDetails(context, summary);
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static void WriteDetails(CliContext context, WorkflowSummary summary)
    {
        var (workflow, steps, _, commands, workspace, children) = summary;
        var prompt = summary.ApprovalPrompt;
        var o = context.Output;
        o.WriteLine($"Workflow {workflow.Id} ({workflow.Type}): {StatusText(workflow)}");
        if (workflow.CurrentNode is not null)
        {
            o.WriteLine($"  node:      {workflow.CurrentNode}{(workflow.Attempt > 0 ? $" (attempt {workflow.Attempt})" : "")}");
        }

        if (workflow.Status == WorkflowStatus.Waiting)
        {
            o.WriteLine($"  waiting:   {WaitingText(workflow)}");
        }

        if (prompt is not null)
        {
            // A prompt of several lines (a YAML block) stays in the column it starts in.
            o.WriteLine($"  prompt:    {prompt.TrimEnd().ReplaceLineEndings(Environment.NewLine + new string(' ', 13))}");
        }

        if (workflow.Error is { } failure)
        {
            o.WriteLine($"  error:     [{failure.Type}]{(failure.Node is null ? "" : $" at '{failure.Node}'")}: {failure.Message}");
        }

        if (workflow.Queue is not null)
        {
            o.WriteLine($"  queue:     {workflow.Queue}{(workflow.QueuePartition is { } partition ? $" (partition {partition})" : "")}{(workflow.QueuePriority != 0 ? $", priority {workflow.QueuePriority}" : "")}");
        }

        if (workflow.ParentId is not null)
        {
            o.WriteLine($"  parent:    {workflow.ParentId}");
        }

        o.WriteLine($"  created:   {Time(workflow.CreatedAt)}");
        o.WriteLine($"  updated:   {Time(workflow.UpdatedAt)}");
        if (workflow.CompletedAt is { } completedAt)
        {
            o.WriteLine($"  ended:     {Time(completedAt)} (after {Duration(completedAt - workflow.CreatedAt)})");
        }

        if (workflow.DueAt is { } due && !workflow.IsTerminal)
        {
            o.WriteLine($"  due:       {Time(due)}");
        }

        if (workflow.ArchivedAt is { } archivedAt)
        {
            o.WriteLine($"  archived:  {Time(archivedAt)}");
        }

        if (summary.RunByPhases)
        {
            o.WriteLine("  run by:    phases (`ratchet phase`), no workflow definition");
        }

        o.WriteLine();
        o.WriteLine("Input:");
        o.WriteLine(Indent(workflow.Input is { } input ? Pretty(input, context.IsTerminal) : "(none)"));

        o.WriteLine();
        o.WriteLine("Timeline:");
        if (steps.Count == 0)
        {
            o.WriteLine("  (no node has finished yet)");
        }
        else
        {
            context.WriteTable(["#", "NODE", "ATTEMPT", "OUTCOME", "STARTED", "DURATION", "ERROR"], steps.Select(s => (IReadOnlyList<string>)
            [
                s.Sequence.ToString(CultureInfo.InvariantCulture), s.Node, s.Attempt.ToString(CultureInfo.InvariantCulture), s.Outcome.ToString(),
                Time(s.StartedAt), Duration(s.FinishedAt - s.StartedAt), s.Error is null ? "" : Cut(OneLine(s.Error.Message), context.IsTerminal ? 80 : int.MaxValue),
            ]));
        }

        o.WriteLine();
        o.WriteLine("Artifacts:");
        if (workflow.Artifacts.Count == 0)
        {
            o.WriteLine("  (none)");
        }

        foreach (var (name, value) in workflow.Artifacts.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            o.WriteLine($"  {name}:");
            o.WriteLine(Indent(Pretty(value, context.IsTerminal), "    "));
        }

        o.WriteLine();
        o.WriteLine("Commands:");
        if (commands.Count == 0)
        {
            o.WriteLine("  (none)");
        }
        else
        {
            context.WriteTable(["NODE", "ATTEMPT", "EXIT", "DURATION", "STARTED", "COMMAND"], commands.Select(c => (IReadOnlyList<string>)
            [
                c.Node, c.Attempt.ToString(CultureInfo.InvariantCulture), c.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "killed",
                Duration(c.Duration), Time(c.StartedAt), Cut(OneLine(c.CommandLine), context.IsTerminal ? 80 : int.MaxValue),
            ]));
        }

        o.WriteLine();
        o.WriteLine(workspace is null
            ? "Workspace: (none)"
            : $"Workspace: {workspace.Path} ({workspace.Status.ToString().ToLowerInvariant()}{(summary.WorkspaceExists ? "" : ", removed")}, heartbeat {Time(workspace.HeartbeatAt)})");

        if (children.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("Sub-workflows:");
            context.WriteTable(["ID", "TYPE", "STATUS", "NODE", "CREATED"], children.Select(c => (IReadOnlyList<string>)
            [
                c.Id, c.Type, StatusText(c), c.CurrentNode ?? "", Time(c.CreatedAt),
            ]));
        }
    }

    private static Command Cleanup(TextWriter output, TextWriter error)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only list what would be removed; change nothing." };
        var olderThan = new Option<string?>("--older-than")
        {
            Description = "Also delete Failed and Cancelled workflows (with their journal, events, commands, workspace and run logs) that ended longer ago than this, e.g. 30d. Without it no workflow is deleted. Completed workflows are never deleted (archive them).",
        };
        var command = new Command("cleanup",
            "Remove the workspace directories of workflows that have ended (completed, failed, cancelled), including those marked orphaned; " +
            "with --older-than, also delete old failed and cancelled workflows. The workspace of a workflow that is still pending, running or waiting is never touched.")
        {
            dryRun, olderThan,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var dry = parse.GetValue(dryRun);
            var age = parse.GetValue(olderThan) is { } text ? ParseDuration(text, "--older-than") : (TimeSpan?)null;
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var report = await new StoreMaintenance(store, context.Folders).CleanupAsync(new CleanupOptions { DryRun = dry, OlderThan = age }, cancellationToken);
            var removed = report.Workspaces;
            var deleted = report.Workflows;
            if (!context.Json)
            {
                var verb = dry ? "would remove" : "removed";
                foreach (var (workspace, workflow) in removed)
                {
                    await context.Output.WriteLineAsync($"{verb} workspace {workspace.Path} of workflow {workflow.Id} ({workflow.Status})");
                }

                foreach (var workflow in deleted)
                {
                    await context.Output.WriteLineAsync($"{(dry ? "would delete" : "deleted")} workflow {workflow.Id} ({workflow.Type}, {workflow.Status} {Time(workflow.CompletedAt ?? workflow.UpdatedAt)})");
                }
            }

            if (context.Json)
            {
                WriteJsonObject(context.Output, writer =>
                {
                    writer.WriteBoolean("dryRun", dry);
                    writer.WriteStartArray("workspaces");
                    foreach (var (workspace, workflow) in removed)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("workflowId", workflow.Id);
                        writer.WriteString("path", workspace.Path);
                        writer.WriteString("workflowStatus", workflow.Status.ToString());
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                    writer.WriteStartArray("workflows");
                    foreach (var workflow in deleted)
                    {
                        writer.WriteStartObject();
                        writer.WriteString("id", workflow.Id);
                        writer.WriteString("type", workflow.Type);
                        writer.WriteString("status", workflow.Status.ToString());
                        writer.WriteString("endedAt", workflow.CompletedAt ?? workflow.UpdatedAt);
                        writer.WriteEndObject();
                    }

                    writer.WriteEndArray();
                });
            }
            else
            {
                await context.Output.WriteLineAsync(
                    $"{(dry ? "Dry run: would remove" : "Removed")} {Count(removed.Count, "workspace")} and {(dry ? "delete" : "deleted")} {Count(deleted.Count, "workflow")}." +
                    (report.DeletedBefore is null ? " (Workflows are deleted only with --older-than.)" : ""));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Archive(TextWriter output, TextWriter error)
    {
        var olderThan = new Option<string>("--older-than") { Description = "Archive completed, failed and cancelled workflows that ended longer ago than this, e.g. 30d (required).", Required = true };
        var command = new Command("archive", "Archive workflows that ended long ago: they keep all their data (`state show` and export still see them) but leave `state list` unless --all.")
        {
            olderThan,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var age = ParseDuration(parse.GetValue(olderThan)!, "--older-than");
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var (count, before) = await new StoreMaintenance(store, context.Folders).ArchiveAsync(age, cancellationToken);
            if (context.Json)
            {
                WriteJsonObject(context.Output, writer =>
                {
                    writer.WriteNumber("archived", count);
                    writer.WriteString("endedBefore", before);
                });
            }
            else
            {
                await context.Output.WriteLineAsync($"Archived {Count(count, "workflow")} that ended before {Time(before)}.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Export(TextWriter output, TextWriter error)
    {
        var format = new Option<string>("--format", "-f")
        {
            Description = "json: one snapshot document; jsonl: a header line, then one line per record with a \"kind\" field (workflow, step, event, command, workspace, value, checkpoint).",
            DefaultValueFactory = _ => "json",
        };
        format.AcceptOnlyFromAmong("json", "jsonl");
        var outFile = new Option<string?>("--out", "-o") { Description = "The file to write (replaced if it exists; written whole or not at all). Default: standard output." };
        var omitSecrets = new Option<bool>("--omit-secrets") { Description = "Leave providers' API keys out (by default the export carries them encrypted, readable only with the master key)." };
        var command = new Command("export", "Export everything the store holds (workflows, journals, events, commands, workspaces, key-value state, checkpoints); `state import` reads both formats back.")
        {
            format, outFile, omitSecrets,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var snapshot = await new StoreMaintenance(store, context.Folders).ExportAsync(parse.GetValue(omitSecrets), cancellationToken);
            var exportFormat = parse.GetValue(format) == "jsonl" ? ExportFormat.JsonLines : ExportFormat.Json;
            if (parse.GetValue(outFile) is not { } path)
            {
                await StoreMaintenance.WriteAsync(context.Output, snapshot, exportFormat, cancellationToken);
                return ExitCodes.Ok;
            }

            if (Directory.Exists(Path.GetFullPath(path)))
            {
                throw new UsageException($"--out '{path}' is a directory; give a file name.");
            }

            await StoreMaintenance.WriteFileAsync(path, snapshot, exportFormat, cancellationToken);
            await context.Error.WriteLineAsync($"Exported {Summary(snapshot)} to {path}.");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Import(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "A file written by `state export` (json or jsonl, detected), or - for standard input." };
        var merge = new Option<bool>("--merge") { Description = "Import into a store that already holds data: keep every record it has, add the workflows, values and checkpoints it lacks." };
        var command = new Command("import", "Import an export into the store, atomically. A store that holds data is refused (exit 2, nothing changed) unless --merge.")
        {
            file, merge,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            string text;
            if (path == "-")
            {
                using var reader = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
                text = await reader.ReadToEndAsync(cancellationToken);
            }
            else
            {
                text = File.Exists(path)
                    ? await File.ReadAllTextAsync(path, cancellationToken)
                    : throw new UsageException($"The file '{path}' does not exist.");
            }

            var source = path == "-" ? "standard input" : path;
            if (string.IsNullOrWhiteSpace(text))
            {
                throw new UsageException($"{source} is empty; expected an export written by `ratchet state export`.");
            }

            var snapshot = await StoreMaintenance.ReadExportAsync(text, source, cancellationToken);
            await using var store = await context.OpenStoreAsync(cancellationToken);
            try
            {
                await new StoreMaintenance(store, context.Folders).ImportAsync(snapshot, parse.GetValue(merge), cancellationToken);
            }
            catch (StoreNotEmptyException)
            {
                throw new UsageException($"The store {store.Description} already holds data; nothing was imported. Import into an empty store, or pass --merge to keep its records and add the missing ones.");
            }

            if (context.Json)
            {
                WriteJsonObject(context.Output, writer =>
                {
                    writer.WriteNumber("workflows", snapshot.Workflows.Count);
                    writer.WriteNumber("steps", snapshot.Steps.Count);
                    writer.WriteNumber("events", snapshot.Events.Count);
                    writer.WriteNumber("commands", snapshot.Commands.Count);
                    writer.WriteNumber("workspaces", snapshot.Workspaces.Count);
                    writer.WriteNumber("values", snapshot.Values.Count);
                    writer.WriteNumber("checkpoints", snapshot.Checkpoints.Count);
                });
            }
            else
            {
                await context.Output.WriteLineAsync($"Imported {Summary(snapshot)} from {source}{(parse.GetValue(merge) ? " (merged: records the store had were kept)" : "")}.");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Backup(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The backup file to create; it must not exist." };
        var command = new Command("backup", "Write a consistent copy of the whole store to a new file while it stays in use (for SQLite, a database file you can open with --store sqlite:FILE).")
        {
            file,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (File.Exists(path) || Directory.Exists(path))
            {
                throw new UsageException($"'{path}' already exists; a backup never overwrites anything. Choose a new file name.");
            }

            await using var store = await context.OpenStoreAsync(cancellationToken);
            await store.BackupAsync(path, cancellationToken);
            await context.Output.WriteLineAsync($"Backed up {store.Description} to {path} ({new FileInfo(path).Length.ToString("N0", CultureInfo.InvariantCulture)} bytes).");
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command New(TextWriter output, TextWriter error)
    {
        var type = new Option<string>("--type", "-t") { Description = "The workflow's type: a name for what the pipeline does (letters, digits, '-', '_', '.'), e.g. fix.", Required = true };
        var inputs = new Option<string[]>("--input", "-i") { Description = "An input as key=value (kept as a string); repeat for more.", AllowMultipleArgumentsPerToken = false };
        var id = new Option<string?>("--id") { Description = "The workflow's id. If it exists (same type), that workflow is used as it is: re-running a pipeline skips its completed phases." };
        var command = new Command("new",
            "Create a workflow run by phases (no definition) and print its state JSON for `ratchet phase`: " +
            "{\"workflow\": {\"id\", \"type\", \"status\", \"version\"}, \"inputs\": {...}, \"artifacts\": {...}}.")
        {
            type, inputs, id,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var typeName = parse.GetValue(type)!;
            if (PhaseRunner.TypeProblem(typeName) is { } problem)
            {
                throw new UsageException(problem);
            }

            var workflowId = parse.GetValue(id);
            if (workflowId is not null && !WorkflowIds.IsValid(workflowId, out var idProblem))
            {
                throw new UsageException(idProblem!);
            }

            var input = ParseInputs(parse.GetValue(inputs) ?? []);
            var options = context.HostOptions();
            options.LoadRecordedDefinitions = false;
            await using var host = await RatchetHost.OpenAsync(options, cancellationToken);
            var (workflow, created, inputsDiffer) = await host.Phases.CreateWorkflowAsync(typeName, workflowId, input, cancellationToken);
            if (!created)
            {
                await context.Error.WriteLineAsync(
                    $"ratchet: workflow {workflow.Id} exists ({workflow.Status}); its completed phases will be skipped." +
                    (inputsDiffer ? " The --input values given differ from its own and are ignored." : ""));
            }

            await context.Output.WriteLineAsync(PhaseState.Serialize(workflow, indented: context.IsTerminal));
            return ExitCodes.Ok;
        }));
        return command;
    }

    // ---- parsing ------------------------------------------------------------------------------------------------

    internal static TimeSpan ParseDuration(string text, string option) =>
        Durations.TryParse(text, out var duration, out var problem) ? duration : throw new UsageException($"{option}: {problem}.");

    private static DateTimeOffset ParseSince(string text)
    {
        if (Durations.TryParse(text, out var duration, out _))
        {
            return TimeProvider.System.GetStoreNow() - duration;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw new UsageException($"--since '{text}' is neither a duration (2h, 7d) nor a date (2025-01-31 or 2025-01-31T08:00:00Z).");
    }

    private static string[] Split(string[] values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal).ToArray();

    private static WorkflowStatus[] ParseStatuses(string[] values)
    {
        var statuses = new List<WorkflowStatus>();
        foreach (var value in Split(values))
        {
            if (value.Equals("active", StringComparison.OrdinalIgnoreCase))
            {
                statuses.AddRange([WorkflowStatus.Pending, WorkflowStatus.Running, WorkflowStatus.Waiting]);
            }
            else if (Enum.TryParse<WorkflowStatus>(value, ignoreCase: true, out var status) && !int.TryParse(value, out _))
            {
                statuses.Add(status);
            }
            else
            {
                throw new UsageException($"--status '{value}' is not a status; use pending, running, waiting, completed, failed, cancelled or active.");
            }
        }

        return statuses.Distinct().ToArray();
    }

    private static Dictionary<string, string> ParseInputs(string[] pairs)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new UsageException($"--input '{pair}' is not key=value (e.g. --input issue=42).");
            }

            if (!values.TryAdd(pair[..equals], pair[(equals + 1)..]))
            {
                throw new UsageException($"--input '{pair[..equals]}' is given twice; give each input once.");
            }
        }

        return values;
    }

    // ---- printing -----------------------------------------------------------------------------------------------

    internal static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    internal static string Duration(TimeSpan duration) =>
        duration < TimeSpan.FromSeconds(1) ? Math.Max(0, (long)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms"
        : duration < TimeSpan.FromMinutes(1) ? duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s"
        : Durations.Format(TimeSpan.FromSeconds(Math.Round(duration.TotalSeconds)));

    private static string Count(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";

    private static string Summary(StoreSnapshot snapshot) =>
        $"{Count(snapshot.Workflows.Count, "workflow")}, {Count(snapshot.Steps.Count, "step")}, {Count(snapshot.Events.Count, "event")}, " +
        $"{Count(snapshot.Commands.Count, "command")}, {Count(snapshot.Workspaces.Count, "workspace")}, {Count(snapshot.Values.Count, "value")} and {Count(snapshot.Checkpoints.Count, "checkpoint")}";

    private static string StatusText(WorkflowRecord workflow)
    {
        var text = workflow.Status switch
        {
            WorkflowStatus.Waiting => $"Waiting ({workflow.WaitReason}{(workflow.WaitDetail is null ? "" : $" {workflow.WaitDetail}")})",
            _ => workflow.Status.ToString(),
        };

        // Whether anyone runs it now: the status alone says Running for a workflow whose process was killed.
        if (Liveness.Describe(workflow, TimeProvider.System.GetUtcNow()) is { } liveness)
        {
            text += $" ({liveness})";
        }

        return workflow.ArchivedAt is null ? text : text + ", archived";
    }

    private static string WaitingText(WorkflowRecord workflow) => workflow.WaitReason switch
    {
        WaitReason.Approval => $"for approval at '{workflow.CurrentNode}': `ratchet approve {workflow.Id}` or `ratchet reject {workflow.Id} --comment \"...\"`",
        WaitReason.Signal => $"for the signal '{workflow.WaitDetail}': `ratchet signal {workflow.Id} {workflow.WaitDetail}`",
        WaitReason.Timer => $"until {(workflow.DueAt is { } due ? Time(due) : "?")} (retry back-off or delay)",
        WaitReason.Child => $"for the sub-workflow {workflow.WaitDetail} to end",
        WaitReason.Interrupted => $"interrupted at '{workflow.CurrentNode}' (stopped on purpose): `ratchet resume {workflow.Id}` runs attempt {workflow.Attempt} again",
        _ => workflow.WaitReason.ToString(),
    };

    /// <summary>Indented JSON; on a terminal, long values are cut (the whole value is in `state show --json`).</summary>
    private static string Pretty(JsonElement value, bool cut)
    {
        var text = JsonSerializer.Serialize(value, RatchetJsonContext.Indented.JsonElement);
        if (value.ValueKind == JsonValueKind.String && value.GetString()!.Contains('\n', StringComparison.Ordinal))
        {
            // Multi-line text (a plan, a log) reads better as it is than as one escaped JSON string.
            text = value.GetString()!;
        }

        return cut && text.Length > MaxArtifactCharacters
            ? text[..MaxArtifactCharacters] + $"\n… ({text.Length - MaxArtifactCharacters} more characters; `--json` prints everything)"
            : text;
    }

    private static string Indent(string text, string prefix = "  ") =>
        string.Join('\n', text.Split('\n').Select(line => prefix + line));

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    internal static void WriteJsonArray<T>(TextWriter output, IEnumerable<T> items, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = typeInfo.Options.Encoder }))
        {
            writer.WriteStartArray();
            foreach (var item in items)
            {
                JsonSerializer.Serialize(writer, item, typeInfo);
            }

            writer.WriteEndArray();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    internal static void WriteJsonObject(TextWriter output, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = RatchetJson.Options.Encoder }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteArrayProperty<T>(Utf8JsonWriter writer, string name, IEnumerable<T> items, JsonTypeInfo<T> typeInfo)
    {
        writer.WriteStartArray(name);
        foreach (var item in items)
        {
            JsonSerializer.Serialize(writer, item, typeInfo);
        }

        writer.WriteEndArray();
    }
}
