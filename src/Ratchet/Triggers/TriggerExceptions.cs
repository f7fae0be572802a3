namespace Ratchet.Triggers;

/// <summary>A trigger is not valid: a field is missing or malformed, an expression does not parse, or it would close a cycle.</summary>
public sealed class TriggerDefinitionException(string triggerName, string problem)
    : RatchetException($"Trigger '{triggerName}': {problem}")
{
    /// <summary>The trigger's name.</summary>
    public string TriggerName { get; } = triggerName;

    /// <inheritdoc />
    public override string ErrorCode => "invalid-trigger";
}

/// <summary>No trigger has the given name.</summary>
public sealed class TriggerNotFoundException(string triggerName)
    : RatchetException($"No trigger is named '{triggerName}'.")
{
    /// <summary>The name that was looked up.</summary>
    public string TriggerName { get; } = triggerName;

    /// <inheritdoc />
    public override string ErrorCode => "trigger-not-found";
}

/// <summary>A trigger was added under a name that is taken.</summary>
public sealed class TriggerAlreadyExistsException(string triggerName)
    : RatchetException($"A trigger named '{triggerName}' already exists. Remove it first, or choose another name.")
{
    /// <summary>The name that was taken.</summary>
    public string TriggerName { get; } = triggerName;

    /// <inheritdoc />
    public override string ErrorCode => "trigger-exists";
}
