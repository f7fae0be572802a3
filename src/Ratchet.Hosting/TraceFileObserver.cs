using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Hosting;

/// <summary>
/// Appends each workflow's audit events to <c>DIR/ID.jsonl</c> as they are committed, in the very lines
/// <c>ratchet trace ID</c> prints, so a trace file and the command's output compare equal. Each observer event
/// prompts a read of the events after the last one written; a file left by an earlier process is continued, not
/// repeated.
/// </summary>
internal sealed class TraceFileObserver(IRatchetStore store, string directory) : IWorkflowObserver
{
    private readonly Dictionary<string, long> _written = new(StringComparer.Ordinal);

    public async ValueTask OnEventAsync(WorkflowEvent workflowEvent, CancellationToken cancellationToken)
    {
        if (workflowEvent.WorkflowId.Length == 0)
        {
            return;
        }

        // Observers are called one event at a time, so this state needs no lock.
        var path = Path.Combine(directory, workflowEvent.WorkflowId + ".jsonl");
        if (!_written.TryGetValue(workflowEvent.WorkflowId, out var after))
        {
            after = await LastSequenceAsync(path, cancellationToken);
        }

        var events = await store.GetEventsAsync(workflowEvent.WorkflowId, after, cancellationToken: cancellationToken);
        if (events.Count == 0)
        {
            _written[workflowEvent.WorkflowId] = after;
            return;
        }

        Directory.CreateDirectory(directory);
        await using (var file = new StreamWriter(path, append: true))
        {
            foreach (var auditEvent in events)
            {
                await file.WriteLineAsync(RatchetJson.ToJsonLine(auditEvent).AsMemory(), cancellationToken);

                // Per line: a reader tailing the file sees each event whole, and a crash loses none already written.
                await file.FlushAsync(cancellationToken);
            }
        }

        _written[workflowEvent.WorkflowId] = events[^1].Sequence;
        if (workflowEvent.Kind is WorkflowEventKind.Completed or WorkflowEventKind.Failed or WorkflowEventKind.Cancelled)
        {
            _written.Remove(workflowEvent.WorkflowId);
        }
    }

    private static async Task<long> LastSequenceAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        var lines = await File.ReadAllLinesAsync(path, cancellationToken);
        for (var i = lines.Length - 1; i >= 0; i--)
        {
            try
            {
                if (lines[i].Length > 0 && JsonSerializer.Deserialize(lines[i], RatchetJsonContext.Default.AuditEvent) is { } written)
                {
                    return written.Sequence;
                }
            }
            catch (JsonException)
            {
                // A line torn by a crash: the one before it is the last whole event.
            }
        }

        return 0;
    }
}
