using Ratchet.Agents;
using Ratchet.Secrets;
using Ratchet.State;
using Ratchet.Triggers;

namespace Ratchet.Cli;

/// <summary>
/// What to type next, for the errors whose way out is a `ratchet` command. The library's messages say what is wrong
/// and nothing of this tool; the CLI adds its own commands to them here.
/// </summary>
internal static class CliHints
{
    /// <summary>The message of <paramref name="exception"/> on one line, with the command that helps, if one does.</summary>
    public static string MessageOf(Exception exception)
    {
        var message = RatchetCli.OneLine(exception.Message);
        return For(exception) is { } hint ? $"{message} {hint}" : message;
    }

    private static string? For(Exception exception) => exception switch
    {
        WorkflowNotFoundException => "List workflows with `ratchet state list` and check the id.",
        CheckpointNotFoundException missing => $"List them with `ratchet kv checkpoints --ns {missing.Namespace}`.",
        StateKeyNotFoundException missing => $"List the keys with `ratchet kv list --ns {missing.Namespace}`.",
        TriggerNotFoundException => "List them with `ratchet trigger list`.",
        ProviderNotFoundException missing => $"List them with `ratchet provider list`, or add it with `ratchet provider add {missing.Name} --api-key-env VAR`.",
        AgentNotFoundException missing => $"List them with `ratchet agent list`, or add it with `ratchet agent add {missing.Name} --provider P --model M`.",
        ProviderAlreadyExistsException taken => $"Change it with `ratchet provider update {taken.Name}`, or choose another name.",
        AgentAlreadyExistsException taken => $"Change it with `ratchet agent update {taken.Name}`, or choose another name.",
        ProviderInUseException => "Move them to another provider with `ratchet agent update NAME --provider P`, or remove them with the provider (`--cascade`).",
        ProviderInactiveException inactive => $"Activate it with `ratchet provider update {inactive.Provider} --active`, or give the agent another provider.",
        MasterKeyUnavailableException { NeedsNewKey: true } => "Generate one with `ratchet keys generate`.",
        ReservedNamespaceException reserved => ReservedHint(reserved.Namespace),
        _ => null,
    };

    private static string ReservedHint(string @namespace) => @namespace switch
    {
        AgentDirectory.ProvidersNamespace => "`ratchet kv` can read it; manage providers with `ratchet provider ...`.",
        AgentDirectory.AgentsNamespace => "`ratchet kv` can read it; manage agent profiles with `ratchet agent ...`.",
        TriggerCatalog.Namespace => "`ratchet kv` can read it; manage triggers with `ratchet trigger ...`.",
        "ratchet.definitions" => "`ratchet kv` can read it; `ratchet run` records them.",
        _ => "`ratchet kv` can read it.",
    };
}
