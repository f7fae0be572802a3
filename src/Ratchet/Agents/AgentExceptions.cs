namespace Ratchet.Agents;

/// <summary>
/// The base of the errors about providers and agent profiles: unknown or duplicate names, invalid settings, a provider
/// still in use or inactive. All are mistakes of the request (nothing was changed), not of the store.
/// </summary>
public abstract class AgentDirectoryException : RatchetException
{
    /// <summary>Creates the exception.</summary>
    protected AgentDirectoryException(string message)
        : base(message)
    {
    }
}

/// <summary>No provider has the name.</summary>
public sealed class ProviderNotFoundException(string name)
    : AgentDirectoryException($"No provider is named '{name}'.")
{
    /// <summary>The name looked up.</summary>
    public string Name { get; } = name;

    /// <inheritdoc />
    public override string ErrorCode => "provider-not-found";
}

/// <summary>No agent profile has the name.</summary>
public sealed class AgentNotFoundException(string name)
    : AgentDirectoryException($"No agent profile is named '{name}'.")
{
    /// <summary>The name looked up.</summary>
    public string Name { get; } = name;

    /// <inheritdoc />
    public override string ErrorCode => "agent-not-found";
}

/// <summary>A provider was added under a name that is taken.</summary>
public sealed class ProviderAlreadyExistsException(string name)
    : AgentDirectoryException($"A provider named '{name}' already exists.")
{
    /// <summary>The name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc />
    public override string ErrorCode => "provider-exists";
}

/// <summary>An agent profile was added under a name that is taken.</summary>
public sealed class AgentAlreadyExistsException(string name)
    : AgentDirectoryException($"An agent profile named '{name}' already exists.")
{
    /// <summary>The name.</summary>
    public string Name { get; } = name;

    /// <inheritdoc />
    public override string ErrorCode => "agent-exists";
}

/// <summary>A provider cannot be removed while agent profiles use it (unless the removal cascades to them).</summary>
public sealed class ProviderInUseException(string name, IReadOnlyList<string> agents)
    : AgentDirectoryException(
        $"Provider '{name}' is used by {agents.Count} agent profile{(agents.Count == 1 ? "" : "s")} ({string.Join(", ", agents)}).")
{
    /// <summary>The provider.</summary>
    public string Name { get; } = name;

    /// <summary>The profiles that use it.</summary>
    public IReadOnlyList<string> Agents { get; } = agents;

    /// <inheritdoc />
    public override string ErrorCode => "provider-in-use";
}

/// <summary>An agent was asked for whose provider is marked inactive.</summary>
public sealed class ProviderInactiveException(string agent, string provider)
    : AgentDirectoryException($"Agent '{agent}' uses provider '{provider}', which is inactive.")
{
    /// <summary>The agent asked for.</summary>
    public string Agent { get; } = agent;

    /// <summary>The inactive provider.</summary>
    public string Provider { get; } = provider;

    /// <inheritdoc />
    public override string ErrorCode => "provider-inactive";
}

/// <summary>A provider's or agent profile's settings break the rules; the message lists every problem.</summary>
public sealed class AgentSettingsException(string what, IReadOnlyList<string> problems)
    : AgentDirectoryException($"{what} is not valid: {string.Join("; ", problems)}.")
{
    /// <summary>Every problem found, each naming the field and what is allowed.</summary>
    public IReadOnlyList<string> Problems { get; } = problems;

    /// <inheritdoc />
    public override string ErrorCode => "invalid-settings";
}
