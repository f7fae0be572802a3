using System.CommandLine;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Cli.Commands;

/// <summary><c>trace</c>: a workflow's audit trail as JSON lines.</summary>
internal static class InspectCommands
{
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(250);

    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return Trace(output, error);
    }

    private static Command Trace(TextWriter output, TextWriter error)
    {
        var id = new Argument<string>("id") { Description = "The workflow's id." };
        var after = new Option<long>("--after") { Description = "Only events after this sequence number." };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they are committed, until the workflow ends (or Ctrl-C)." };
        var command = new Command("trace", "Print a workflow's audit events as JSON lines (time, type, node, attempt, payload), oldest first.") { id, after, follow };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var workflowId = parse.GetValue(id)!;
            var workflow = await store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            var last = parse.GetValue(after);
            while (true)
            {
                foreach (var auditEvent in await store.GetEventsAsync(workflowId, last, cancellationToken: cancellationToken))
                {
                    await context.Output.WriteLineAsync(RatchetJson.ToJsonLine(auditEvent));
                    last = auditEvent.Sequence;
                }

                if (!parse.GetValue(follow) || workflow.IsTerminal)
                {
                    return ExitCodes.Ok;
                }

                await context.Output.FlushAsync(cancellationToken);
                try
                {
                    await Task.Delay(FollowInterval, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl-C ends following; what was printed is the output.
                    return ExitCodes.Ok;
                }

                // Read before the events: events committed with its last change are then caught by the next pass.
                workflow = await store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            }
        }));
        return command;
    }
}
