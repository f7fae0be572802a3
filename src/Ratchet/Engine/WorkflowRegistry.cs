using System.Collections.Concurrent;

namespace Ratchet.Engine;

/// <summary>
/// The definitions an engine knows, by name and version. Running workflows keep the version they started with;
/// register older versions too while instances of them may still be running.
/// </summary>
public sealed class WorkflowRegistry
{
    private readonly ConcurrentDictionary<string, WorkflowDefinition> _latest = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Name, string Version), WorkflowDefinition> _all = new();

    /// <summary>Adds a definition; the last one added under a name is the one new workflows start with.</summary>
    public WorkflowRegistry Add(WorkflowDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        _all[(definition.Name, definition.Version)] = definition;
        _latest[definition.Name] = definition;
        return this;
    }

    /// <summary>The workflow types known, ordered.</summary>
    public IReadOnlyList<string> Types => _latest.Keys.Order(StringComparer.Ordinal).ToArray();

    /// <summary>The definition new workflows of <paramref name="type"/> start with.</summary>
    /// <exception cref="UnknownWorkflowTypeException">The type is not registered.</exception>
    public WorkflowDefinition Latest(string type) =>
        _latest.TryGetValue(type, out var definition) ? definition : throw new UnknownWorkflowTypeException(type, Types);

    /// <summary>Whether <paramref name="type"/> is registered.</summary>
    public bool Contains(string type) => _latest.ContainsKey(type);

    /// <summary>The exact version, if registered.</summary>
    public WorkflowDefinition? Find(string type, string version) =>
        _all.TryGetValue((type, version), out var definition) ? definition : null;
}

/// <summary>A workflow type that the engine has no definition for.</summary>
public sealed class UnknownWorkflowTypeException(string type, IReadOnlyList<string> known)
    : RatchetException($"No workflow definition is registered for type '{type}'. Known types: {(known.Count == 0 ? "none" : string.Join(", ", known))}. Register it with the engine first.")
{
    /// <summary>The type asked for.</summary>
    public string Type { get; } = type;

    /// <inheritdoc />
    public override string ErrorCode => "unknown-workflow-type";
}
