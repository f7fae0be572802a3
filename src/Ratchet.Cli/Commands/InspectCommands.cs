using System.CommandLine;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Cli.Commands;

/// <summary><c>trace</c>: a workflow's audit trail as JSON lines.</summary>
internal static class InspectCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return Trace(output, error);
    }

    private static Command Trace(TextWriter output, TextWriter error)
    {
        var id = new Argument<string>("id") { Description = "The workflow's id." };
        var after = new Option<long>("--after") { Description = "Only events after this sequence number." };
        var command = new Command("trace", "Print a workflow's audit events as JSON lines (time, type, node, attempt, payload), oldest first.") { id, after };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var workflowId = parse.GetValue(id)!;
            _ = await store.GetRequiredWorkflowAsync(workflowId, cancellationToken);
            foreach (var auditEvent in await store.GetEventsAsync(workflowId, parse.GetValue(after), cancellationToken: cancellationToken))
            {
                await context.Output.WriteLineAsync(RatchetJson.ToJsonLine(auditEvent));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
