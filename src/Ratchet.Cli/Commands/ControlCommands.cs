using System.CommandLine;
using Ratchet.Engine;
using Ratchet.Storage;
using Ratchet.Yaml;

namespace Ratchet.Cli.Commands;

/// <summary>Commands that act on existing workflows: resume, retry, cancel, approve, reject, signal, and the worker.</summary>
internal static class ControlCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return Resume(output, error);
        yield return Retry(output, error);
        yield return Fork(output, error);
        yield return Cancel(output, error);
        yield return Decide(output, error, approve: true);
        yield return Decide(output, error, approve: false);
        yield return Signal(output, error);
        yield return Worker(output, error);
    }

    private static Argument<string> IdArgument() => new("id") { Description = "The workflow's id." };

    /// <summary>A <c>--data</c> value as JSON; text that is not JSON is a usage error naming the option, not a parser's trace.</summary>
    private static System.Text.Json.JsonElement? JsonOption(string? text, string subject)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return Serialization.RatchetJson.Parse(text, subject);
        }
        catch (System.Text.Json.JsonException exception)
        {
            throw new UsageException($"{subject} is not JSON ({exception.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd()}). Pass a JSON value, e.g. --data '{{\"status\":\"green\"}}' or --data '\"text\"'.");
        }
    }

    private static Option<bool> DetachOption() => new("--detach") { Description = "Do not run it here; leave it to a `ratchet worker`." };

    private static Command Resume(TextWriter output, TextWriter error)
    {
        var id = IdArgument();
        var detach = DetachOption();
        var command = Observability.AddOptions(new Command("resume", "Run an interrupted workflow on from where it stopped (its interrupted node runs again).") { id, detach });
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var host = await EngineHost.OpenAsync(context, null, cancellationToken);
            var workflowId = parse.GetValue(id)!;
            var workflow = await host.Store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            EngineHost.RequireRunnable(workflow);
            if (workflow.IsTerminal || workflow is { Status: WorkflowStatus.Waiting, WaitReason: WaitReason.Approval or WaitReason.Signal })
            {
                // Nothing to run: say how it stands (a failed workflow is retried, not resumed).
                await host.Engine.ResumeAsync(workflowId, cancellationToken);
            }

            if (workflow.Status == WorkflowStatus.Waiting && workflow.WaitReason == WaitReason.Timer)
            {
                await host.Engine.ResumeAsync(workflowId, cancellationToken);
            }

            return parse.GetValue(detach) ? host.Report(workflow) : await host.FollowAsync(workflowId, cancellationToken);
        }));
        return command;
    }

    private static Option<string?> DefinitionOption() => new("--definition")
    {
        Description = "A workflow file (a newer version of the workflow's) to run the rest on; recorded as `run` records it, and audited with both versions.",
    };

    private static Command Retry(TextWriter output, TextWriter error)
    {
        var id = IdArgument();
        var from = new Option<string?>("--from") { Description = "The node to start again from (default: the node that failed, or that was running when it was cancelled)." };
        var definition = DefinitionOption();
        var detach = DetachOption();
        var command = new Command("retry", "Run a failed or cancelled workflow again from the node that failed (audited).") { id, from, definition, detach };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var host = await EngineHost.OpenAsync(context, parse.GetValue(definition), cancellationToken);
            var existing = await host.Store.GetRequiredWorkflowAsync(parse.GetValue(id)!, cancellationToken);
            EngineHost.RequireDefinition(existing);
            var version = host.Host.FileDefinitionVersionFor(existing);

            var workflow = await host.Engine.RetryAsync(existing.Id, new RetryOptions { FromNode = parse.GetValue(from), DefinitionVersion = version }, cancellationToken);
            return parse.GetValue(detach) ? host.Report(workflow) : await host.FollowAsync(workflow.Id, cancellationToken);
        }));
        return command;
    }

    private static Command Fork(TextWriter output, TextWriter error)
    {
        var id = IdArgument();
        var from = new Option<string>("--from") { Description = "The node the new workflow starts at; the source must have reached it.", Required = true };
        var newId = new Option<string?>("--id") { Description = "The new workflow's id (forking again with it returns the same fork); generated when left out." };
        var definition = DefinitionOption();
        var detach = DetachOption();
        var command = new Command("fork",
            "Start a new workflow with the history of another up to a node (its input and the nodes it completed before, with their outputs), linked both ways.")
        {
            id, from, newId, definition, detach,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var host = await EngineHost.OpenAsync(context, parse.GetValue(definition), cancellationToken);
            var source = await host.Store.GetRequiredWorkflowAsync(parse.GetValue(id)!, cancellationToken);
            EngineHost.RequireDefinition(source);
            var version = host.Host.FileDefinitionVersionFor(source);

            var node = parse.GetValue(from)!;
            var fork = await host.Engine.ForkAsync(source.Id, new ForkOptions { FromNode = node, Id = parse.GetValue(newId), DefinitionVersion = version }, cancellationToken);
            if (!context.Json)
            {
                await context.Error.WriteLineAsync($"Forked workflow {source.Id} from node '{node}' as {fork.Id}.");
            }

            return parse.GetValue(detach) ? host.Report(fork) : await host.FollowAsync(fork.Id, cancellationToken);
        }));
        return command;
    }

    private static Command Cancel(TextWriter output, TextWriter error)
    {
        var id = IdArgument();
        var reason = new Option<string?>("--reason") { Description = "Why; kept in the audit trail." };
        var command = new Command("cancel", "Cancel a workflow and the sub-workflows it started.") { id, reason };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var host = await EngineHost.OpenAsync(context, null, cancellationToken);
            var workflow = await host.Engine.CancelAsync(parse.GetValue(id)!, parse.GetValue(reason) ?? $"cancelled by {User()}", cancellationToken);
            host.Report(workflow);
            if (workflow.LeaseOwner is { } owner)
            {
                var stopped = await host.Host.WaitForNodeToStopAsync(workflow, cancellationToken);
                if (!context.Json)
                {
                    await context.Error.WriteLineAsync(stopped
                        ? $"Its running node was stopped in {Liveness.DescribeOwner(owner)}."
                        : $"Its running node is still stopping in {Liveness.DescribeOwner(owner)}; that process kills it when its grace period ends.");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Decide(TextWriter output, TextWriter error, bool approve)
    {
        var id = IdArgument();
        var comment = new Option<string?>("--comment", "-m") { Description = approve ? "A comment, kept in the audit trail." : "Why it is rejected (required)." };
        var by = new Option<string?>("--by") { Description = "Who decides (default: the current user)." };
        var data = new Option<string?>("--data") { Description = "A payload for the approval node's output (as 'data'), as JSON: the plan as approved, say. Audited." };
        var detach = DetachOption();
        var command = new Command(approve ? "approve" : "reject",
            approve ? "Approve a workflow waiting for approval, and run it on." : "Reject a workflow waiting for approval: it fails (or takes its 'rejected' path).")
        {
            id, comment, by, detach,
        };
        if (approve)
        {
            command.Options.Add(data);
        }

        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var text = parse.GetValue(comment);
            if (!approve && string.IsNullOrWhiteSpace(text))
            {
                throw new UsageException("A rejection needs a reason: pass --comment \"...\".");
            }

            await using var host = await EngineHost.OpenAsync(context, null, cancellationToken);
            var who = parse.GetValue(by) ?? User();
            var payload = approve ? JsonOption(parse.GetValue(data), "The approval's --data") : null;
            var workflow = approve
                ? await host.Engine.ApproveAsync(parse.GetValue(id)!, who, text, payload, cancellationToken)
                : await host.Engine.RejectAsync(parse.GetValue(id)!, who, text, cancellationToken);
            return parse.GetValue(detach) || workflow.IsTerminal ? host.Report(workflow) : await host.FollowAsync(workflow.Id, cancellationToken);
        }));
        return command;
    }

    private static Command Signal(TextWriter output, TextWriter error)
    {
        var id = IdArgument();
        var name = new Argument<string>("signal") { Description = "The signal's name." };
        var payload = new Option<string?>("--data", "--payload") { Description = "The signal's payload, as JSON; it becomes the output of the node that waits for it." };
        var detach = DetachOption();
        var command = new Command("signal",
            "Send a signal to a workflow: a workflow waiting for it runs on; one that does not wait for it yet keeps it (buffered, in order) until it reaches a wait for that name.")
        {
            id, name, payload, detach,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var host = await EngineHost.OpenAsync(context, null, cancellationToken);
            var json = JsonOption(parse.GetValue(payload), "The signal's --data");
            var signal = parse.GetValue(name)!;
            var delivery = await host.Engine.SendSignalAsync(parse.GetValue(id)!, signal, json, cancellationToken);
            if (delivery.Buffered)
            {
                await context.Error.WriteLineAsync(
                    $"Workflow '{delivery.Workflow.Id}' does not wait for the signal '{signal}' yet; it was buffered and is delivered when the workflow reaches a wait for it.");
                return host.Report(delivery.Workflow);
            }

            return parse.GetValue(detach) ? host.Report(delivery.Workflow) : await host.FollowAsync(delivery.Workflow.Id, cancellationToken);
        }));
        return command;
    }

    private static Command Worker(TextWriter output, TextWriter error)
    {
        var concurrency = new Option<int>("--concurrency", "-c") { Description = "How many workflows to run at once (default 8).", DefaultValueFactory = _ => 8 };
        var untilIdle = new Option<bool>("--until-idle") { Description = "Exit once nothing is left to run now (instead of waiting for more work)." };
        var lease = new Option<string>("--lease")
        {
            Description = "How long a claim on a workflow lasts without renewal (default 15s, renewed every third of it): a killed worker's workflows are taken over by the others after this long.",
            DefaultValueFactory = _ => "15s",
        };
        var command = Observability.AddOptions(new Command("worker", "Run due workflows from the store until stopped (Ctrl-C), sharing the work with other workers (in other processes or on other machines on a PostgreSQL or Redis store).") { concurrency, untilIdle, lease });
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var slots = parse.GetValue(concurrency);
            if (slots < 1)
            {
                throw new UsageException($"--concurrency is {slots}; it must be at least 1.");
            }

            if (!Durations.TryParse(parse.GetValue(lease), out var leaseDuration, out var problem) || leaseDuration < TimeSpan.FromSeconds(1))
            {
                throw new UsageException($"--lease {parse.GetValue(lease)}: {problem ?? "it must be at least 1s"}; write e.g. --lease 15s.");
            }

            await using var host = await EngineHost.OpenAsync(context, null, cancellationToken, o =>
            {
                o.MaxConcurrency = slots;
                o.LeaseDuration = leaseDuration;
            });
            var runner = host.Engine.CreateRunner();
            await context.Error.WriteLineAsync($"Worker {runner.Owner} runs {string.Join(", ", host.Engine.Definitions.Types)} with up to {slots} at once; Ctrl-C stops it.");
            try
            {
                if (parse.GetValue(untilIdle))
                {
                    await runner.RunUntilIdleAsync(cancellationToken);
                }
                else
                {
                    await runner.StartAsync(cancellationToken);
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await runner.StopAsync(grace.Token);
                await context.Error.WriteLineAsync("Worker stopped; unfinished workflows were released and can be resumed.");
                return ExitCodes.Interrupted;
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    internal static string User() => Environment.GetEnvironmentVariable("USER") ?? Environment.UserName;
}
