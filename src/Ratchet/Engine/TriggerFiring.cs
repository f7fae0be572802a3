using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ratchet.Expressions;
using Ratchet.Serialization;
using Ratchet.Storage;
using Ratchet.Triggers;

namespace Ratchet.Engine;

/// <summary>
/// Adds to a workflow's status-change commit the workflows its triggers start, so that the transition and the starts
/// are one atomic write: a crash before it loses both (the transition is made again, and fires then), a crash after it
/// keeps both. A trigger therefore fires exactly once per transition.
/// </summary>
internal sealed class TriggerFiring(WorkflowEngine engine)
{
    private readonly SemaphoreSlim _loading = new(1, 1);
    private Dictionary<string, (long Version, CompiledTrigger Trigger)> _compiled = new(StringComparer.Ordinal);
    private CompiledTrigger[] _current = [];
    private long _loadedAt;
    private bool _loaded;

    /// <summary>Makes the next transition read the triggers again (this process changed them).</summary>
    public void Invalidate() => Volatile.Write(ref _loaded, false);

    /// <summary>
    /// Evaluates the triggers that match the transition from <paramref name="before"/> to the plan's next record and
    /// adds what they do to the plan's change set: the new workflows with their <c>created</c> and <c>triggered</c>
    /// events, and a <c>trigger-fired</c>, <c>trigger-failed</c> or <c>trigger-skipped</c> event on the source.
    /// Returns the workflows it adds.
    /// </summary>
    public async Task<IReadOnlyList<WorkflowRecord>> AddFiringsAsync(StepPlan plan, WorkflowRecord before, CancellationToken cancellationToken)
    {
        var next = plan.Next;
        if (next.Status == before.Status || next.Status == WorkflowStatus.Pending)
        {
            return [];
        }

        var triggers = await CurrentAsync(cancellationToken);
        List<WorkflowRecord>? started = null;
        JsonElement? scope = null;
        foreach (var trigger in triggers)
        {
            var definition = trigger.Definition;
            if (!definition.Enabled || definition.OnStatus != next.Status ||
                !(string.Equals(definition.SourceType, next.Type, StringComparison.Ordinal) || string.Equals(definition.SourceWorkflowId, next.Id, StringComparison.Ordinal)))
            {
                continue;
            }

            scope ??= Scope(next);
            WorkflowRecord? record;
            try
            {
                record = Fire(plan, trigger, scope.Value);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever goes wrong in a trigger, the transition that fired it still commits.
                record = Failed(plan, definition.Name, ex.Message);
            }

            if (record is not null)
            {
                (started ??= []).Add(record);
            }
        }

        return (IReadOnlyList<WorkflowRecord>?)started ?? [];
    }

    private WorkflowRecord? Fire(StepPlan plan, CompiledTrigger trigger, JsonElement scope)
    {
        var source = plan.Next;
        var name = trigger.Definition.Name;
        var now = source.UpdatedAt;
        JsonElement input;
        try
        {
            if (trigger.Condition is { } condition && !condition.EvaluateBoolean(scope))
            {
                return null;
            }

            input = trigger.Input.Evaluate(scope);
        }
        catch (ExpressionException ex)
        {
            return Failed(plan, name, ex.Message);
        }

        var depth = (Origin(source)?.Depth ?? 0) + 1;
        if (depth > engine.Options.MaxTriggerChainDepth)
        {
            plan.Changes.AppendEvent(new AuditEvent
            {
                WorkflowId = source.Id, Type = AuditEventTypes.TriggerSkipped, At = now,
                Payload = Steps.Payload(("trigger", name), ("reason",
                    $"the chain of triggered workflows would reach depth {depth}; the limit (MaxTriggerChainDepth) is {engine.Options.MaxTriggerChainDepth}")),
            });
            Log.TriggerSkipped(engine.Logger, name, source.Id, depth);
            return null;
        }

        var targetType = trigger.Definition.TargetType;
        if (!engine.Definitions.Contains(targetType))
        {
            return Failed(plan, name, $"no definition of type '{targetType}' is registered with this engine (it knows {string.Join(", ", engine.Definitions.Types)}).");
        }

        var definition = engine.Definitions.Latest(targetType);
        var origin = new TriggerOrigin(name, source.Id, source.Type, depth);
        var record = engine.Creator.Build(definition.Place(new NewWorkflow
        {
            Type = targetType,
            Input = input,
            Metadata = JsonSerializer.SerializeToElement(new Dictionary<string, TriggerOrigin> { ["triggeredBy"] = origin }, TriggerJsonContext.Default.DictionaryStringTriggerOrigin),
            DefinitionVersion = definition.Version,
            StartNode = definition.StartNode,

            // The chain is one story: the started workflow's spans join the trace of the one that fired it.
            TraceParent = source.TraceParent,
        }), engine.Ids.NewId()) with { CreatedAt = now, UpdatedAt = now, DueAt = now };
        plan.Changes.CreateWorkflow(record)
            .AppendEvent(new AuditEvent
            {
                WorkflowId = record.Id, Type = AuditEventTypes.Created, At = record.CreatedAt,
                Payload = Steps.Payload(("type", record.Type)),
            })
            .AppendEvent(new AuditEvent
            {
                WorkflowId = record.Id, Type = AuditEventTypes.Triggered, At = record.CreatedAt,
                Payload = Steps.Payload(("trigger", name), ("workflow", source.Id), ("type", source.Type), ("status", source.Status.ToString())),
            })
            .AppendEvent(new AuditEvent
            {
                WorkflowId = source.Id, Type = AuditEventTypes.TriggerFired, At = now,
                Payload = Steps.Payload(("trigger", name), ("workflow", record.Id), ("type", targetType)),
            });
        Log.TriggerFired(engine.Logger, name, source.Id, record.Id, targetType);
        return record;
    }

    private WorkflowRecord? Failed(StepPlan plan, string trigger, string problem)
    {
        var source = plan.Next;
        plan.Changes.AppendEvent(new AuditEvent
        {
            WorkflowId = source.Id, Type = AuditEventTypes.TriggerFailed, At = source.UpdatedAt,
            Payload = Steps.Payload(("trigger", trigger), ("error", problem)),
        });
        Log.TriggerFailed(engine.Logger, trigger, source.Id, problem);
        return null;
    }

    /// <summary>What a triggered workflow's metadata says of its origin; null for a workflow no trigger started.</summary>
    internal static TriggerOrigin? Origin(WorkflowRecord workflow)
    {
        if (workflow.Metadata is not { ValueKind: JsonValueKind.Object } metadata || !metadata.TryGetProperty("triggeredBy", out var origin))
        {
            return null;
        }

        try
        {
            return origin.Deserialize(TriggerJsonContext.Default.TriggerOrigin);
        }
        catch (JsonException)
        {
            // Caller metadata that happens to use the name: not ours.
            return null;
        }
    }

    /// <summary>The roots trigger expressions see: output, artifacts, inputs, workflow.</summary>
    private static JsonElement Scope(WorkflowRecord workflow)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("output");
            if (workflow.CurrentNode is { } last && workflow.Artifacts.TryGetValue(last, out var output))
            {
                output.WriteTo(writer);
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteStartObject("artifacts");
            foreach (var (node, artifact) in workflow.Artifacts)
            {
                writer.WritePropertyName(node);
                artifact.WriteTo(writer);
            }

            writer.WriteEndObject();
            writer.WritePropertyName("inputs");
            if (workflow.Input is { } input)
            {
                input.WriteTo(writer);
            }
            else
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }

            writer.WriteStartObject("workflow");
            writer.WriteString("id", workflow.Id);
            writer.WriteString("type", workflow.Type);
            writer.WriteString("status", workflow.Status.ToString());
            if (workflow.Error is { } error)
            {
                writer.WriteStartObject("error");
                writer.WriteString("type", error.Type);
                writer.WriteString("message", error.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return RatchetJson.ParseDocument(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>The triggers, read again once <see cref="RatchetOptions.TriggerRefreshInterval"/> has passed; unchanged ones are not parsed again.</summary>
    private async ValueTask<CompiledTrigger[]> CurrentAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _loaded) && engine.Clock.GetElapsedTime(Volatile.Read(ref _loadedAt)) < engine.Options.TriggerRefreshInterval)
        {
            return Volatile.Read(ref _current);
        }

        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _loaded) && engine.Clock.GetElapsedTime(_loadedAt) < engine.Options.TriggerRefreshInterval)
            {
                return _current;
            }

            var entries = await engine.Store.ListValuesAsync(TriggerCatalog.Namespace, cancellationToken);
            var compiled = new Dictionary<string, (long Version, CompiledTrigger Trigger)>(StringComparer.Ordinal);
            foreach (var entry in entries)
            {
                if (_compiled.TryGetValue(entry.Key, out var known) && known.Version == entry.Version)
                {
                    compiled[entry.Key] = known;
                    continue;
                }

                try
                {
                    compiled[entry.Key] = (entry.Version, TriggerCatalog.Compile(TriggerCatalog.FromEntry(entry)));
                }
                catch (Exception ex) when (ex is RatchetException or JsonException)
                {
                    // A damaged trigger must not stop workflows: it is left out and reported.
                    Log.TriggerUnusable(engine.Logger, entry.Key, ex.Message);
                }
            }

            _compiled = compiled;
            Volatile.Write(ref _current, compiled.Values.Select(c => c.Trigger).ToArray());
            Volatile.Write(ref _loadedAt, engine.Clock.GetTimestamp());
            Volatile.Write(ref _loaded, true);
            return _current;
        }
        finally
        {
            _loading.Release();
        }
    }
}
