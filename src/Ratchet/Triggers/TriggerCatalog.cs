using System.Text.Json;
using Ratchet.Expressions;
using Ratchet.Storage;

namespace Ratchet.Triggers;

/// <summary>
/// The store's triggers: add, list, enable, disable, remove. Each trigger is one JSON value in the key-value namespace
/// <see cref="Namespace"/>, written through the storage contract, so every backend keeps them and every engine on the
/// store sees them.
/// </summary>
public sealed class TriggerCatalog
{
    /// <summary>The reserved key-value namespace that holds the triggers, one key per trigger name.</summary>
    public const string Namespace = "ratchet.triggers";

    private readonly IRatchetStore _store;
    private readonly TimeProvider _clock;
    private readonly Action? _changed;

    /// <summary>A catalog over <paramref name="store"/>.</summary>
    public TriggerCatalog(IRatchetStore store, TimeProvider? clock = null)
        : this(store, clock, changed: null)
    {
    }

    internal TriggerCatalog(IRatchetStore store, TimeProvider? clock, Action? changed)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _clock = clock ?? TimeProvider.System;
        _changed = changed;
    }

    /// <summary>Checks and stores a new trigger; returns it as stored.</summary>
    /// <exception cref="TriggerDefinitionException">It is not valid (the message names the field, and an expression's position), or it closes a cycle of types without <see cref="TriggerDefinition.AllowCycle"/>.</exception>
    /// <exception cref="TriggerAlreadyExistsException">The name is taken.</exception>
    public async Task<TriggerDefinition> AddAsync(TriggerDefinition trigger, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        Compile(trigger);
        var existing = await ListAsync(cancellationToken);
        if (existing.Any(t => string.Equals(t.Name, trigger.Name, StringComparison.Ordinal)))
        {
            throw new TriggerAlreadyExistsException(trigger.Name);
        }

        RefuseCycle(trigger, existing);
        var stored = trigger with { CreatedAt = _clock.GetStoreNow() };
        try
        {
            // Version 0: only if nobody added the name meanwhile.
            await _store.CommitAsync(new ChangeSet().SaveValue(Namespace, trigger.Name, ToJson(stored), expectedVersion: 0), cancellationToken);
            _changed?.Invoke();
        }
        catch (KeyValueConcurrencyException)
        {
            throw new TriggerAlreadyExistsException(trigger.Name);
        }

        return stored;
    }

    /// <summary>Every trigger, ordered by name.</summary>
    public async Task<IReadOnlyList<TriggerDefinition>> ListAsync(CancellationToken cancellationToken = default) =>
        (await _store.ListValuesAsync(Namespace, cancellationToken)).Select(FromEntry).ToArray();

    /// <summary>The trigger with this name.</summary>
    /// <exception cref="TriggerNotFoundException">There is none.</exception>
    public async Task<TriggerDefinition> GetAsync(string name, CancellationToken cancellationToken = default) =>
        FromEntry(await GetEntryAsync(name, cancellationToken));

    /// <summary>Turns a trigger on or off; returns it as stored.</summary>
    /// <exception cref="TriggerNotFoundException">There is none.</exception>
    public async Task<TriggerDefinition> SetEnabledAsync(string name, bool enabled, CancellationToken cancellationToken = default)
    {
        var entry = await GetEntryAsync(name, cancellationToken);
        var updated = FromEntry(entry) with { Enabled = enabled };
        await _store.CommitAsync(new ChangeSet().SaveValue(Namespace, name, ToJson(updated), entry.Version), cancellationToken);
        _changed?.Invoke();
        return updated;
    }

    /// <summary>Removes a trigger; workflows it started are not touched.</summary>
    /// <exception cref="TriggerNotFoundException">There is none.</exception>
    public async Task RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        var entry = await GetEntryAsync(name, cancellationToken);
        await _store.CommitAsync(new ChangeSet().DeleteValue(Namespace, name, entry.Version), cancellationToken);
        _changed?.Invoke();
    }

    /// <summary>Checks a trigger on its own (not against the others) and parses its expressions.</summary>
    /// <exception cref="TriggerDefinitionException">It is not valid.</exception>
    internal static CompiledTrigger Compile(TriggerDefinition trigger)
    {
        var name = trigger.Name ?? "";
        if (!WorkflowIds.IsValid(name, out _))
        {
            throw new TriggerDefinitionException(name, "the name must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }

        if ((trigger.SourceType is null) == (trigger.SourceWorkflowId is null))
        {
            throw new TriggerDefinitionException(name, "name exactly one source: a workflow type (when a workflow of type A ...) or a workflow id.");
        }

        if (trigger.SourceType is { } sourceType && string.IsNullOrWhiteSpace(sourceType))
        {
            throw new TriggerDefinitionException(name, "the source type is empty.");
        }

        if (trigger.SourceWorkflowId is { } sourceId && !WorkflowIds.IsValid(sourceId, out var idProblem))
        {
            throw new TriggerDefinitionException(name, idProblem!);
        }

        if (string.IsNullOrWhiteSpace(trigger.TargetType))
        {
            throw new TriggerDefinitionException(name, "name the type of workflow to start.");
        }

        if (trigger.OnStatus == WorkflowStatus.Pending || !Enum.IsDefined(trigger.OnStatus))
        {
            throw new TriggerDefinitionException(name, $"it cannot fire on {trigger.OnStatus}; use Running, Waiting, Completed, Failed or Cancelled.");
        }

        Expression? condition = null;
        if (trigger.Condition is { } conditionText)
        {
            try
            {
                condition = Expression.Parse(conditionText);
            }
            catch (ExpressionException ex)
            {
                throw new TriggerDefinitionException(name, $"its condition does not parse: {ex.Message}");
            }
        }

        try
        {
            return new CompiledTrigger(trigger, condition, ObjectTransform.Parse(trigger.Input ?? new Dictionary<string, string>()));
        }
        catch (ExpressionException ex)
        {
            throw new TriggerDefinitionException(name, $"its input does not parse: {ex.Message}");
        }
        catch (ArgumentException ex)
        {
            throw new TriggerDefinitionException(name, ex.Message);
        }
    }

    internal static JsonElement ToJson(TriggerDefinition trigger) => JsonSerializer.SerializeToElement(trigger, TriggerJsonContext.Default.TriggerDefinition);

    internal static TriggerDefinition FromEntry(KeyValueEntry entry) =>
        entry.Value.Deserialize(TriggerJsonContext.Default.TriggerDefinition)
        ?? throw new StoreCorruptException($"The trigger '{entry.Key}' is stored as null; remove it and add it again.");

    /// <summary>Refuses a type trigger that closes a cycle of type triggers (A → B → ... → A), unless it allows one.</summary>
    private static void RefuseCycle(TriggerDefinition trigger, IReadOnlyList<TriggerDefinition> existing)
    {
        if (trigger.SourceType is not { } source || trigger.AllowCycle)
        {
            return;
        }

        var edges = existing.Where(t => t.SourceType is not null)
            .GroupBy(t => t.SourceType!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(t => t.TargetType).Distinct(StringComparer.Ordinal).ToArray(), StringComparer.Ordinal);

        // Is there a path from the new trigger's target back to its source?
        var path = FindPath(trigger.TargetType, source, edges, []);
        if (path is not null)
        {
            var cycle = string.Join(" → ", new[] { source }.Concat(path));
            throw new TriggerDefinitionException(trigger.Name,
                $"it closes a cycle: {cycle}; workflows would start each other forever. Pass AllowCycle (--allow-cycle) to allow it: chains then stop at the engine's maximum depth.");
        }
    }

    private static List<string>? FindPath(string from, string to, Dictionary<string, string[]> edges, HashSet<string> seen)
    {
        if (string.Equals(from, to, StringComparison.Ordinal))
        {
            return [from];
        }

        if (!seen.Add(from) || !edges.TryGetValue(from, out var next))
        {
            return null;
        }

        foreach (var step in next)
        {
            if (FindPath(step, to, edges, seen) is { } rest)
            {
                rest.Insert(0, from);
                return rest;
            }
        }

        return null;
    }

    private async Task<KeyValueEntry> GetEntryAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!WorkflowIds.IsValid(name, out _))
        {
            throw new TriggerNotFoundException(name);
        }

        return await _store.GetValueAsync(Namespace, name, cancellationToken) ?? throw new TriggerNotFoundException(name);
    }
}

/// <summary>A trigger with its expressions parsed, ready to fire.</summary>
internal sealed record CompiledTrigger(TriggerDefinition Definition, Expression? Condition, ObjectTransform Input);
