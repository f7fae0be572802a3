using Ratchet.Agents;
using Ratchet.Triggers;

namespace Ratchet.State;

/// <summary>
/// Key-value namespaces whose names start with <c>ratchet.</c> hold Ratchet's own records: providers (with API keys
/// encrypted under the master key), agent profiles, triggers, the workflow files runs started with, GitHub comment ids.
/// Each has an owner that keeps its records consistent (versions, links between them, encryption), so
/// <see cref="StateManager"/> reads them but refuses to write them; owners write through the storage contract.
/// </summary>
public static class ReservedNamespaces
{
    /// <summary>The prefix of every reserved namespace.</summary>
    public const string Prefix = "ratchet.";

    /// <summary>Whether <paramref name="namespace"/> is reserved (starts with <see cref="Prefix"/>, case-sensitively, as namespaces compare).</summary>
    public static bool IsReserved(string @namespace)
    {
        ArgumentNullException.ThrowIfNull(@namespace);
        return @namespace.StartsWith(Prefix, StringComparison.Ordinal);
    }

    /// <summary>What a reserved namespace holds and who manages it, for messages.</summary>
    internal static (string Holds, string ManagedBy) Describe(string @namespace) => @namespace switch
    {
        AgentDirectory.ProvidersNamespace => ("Ratchet's provider records (API keys encrypted under the master key)", "AgentDirectory manages them"),
        AgentDirectory.AgentsNamespace => ("Ratchet's agent profiles", "AgentDirectory manages them"),
        TriggerCatalog.Namespace => ("Ratchet's triggers", "TriggerCatalog manages them"),
        Queues.QueueCatalog.Namespace => ("Ratchet's queues and their limits", "QueueCatalog manages them"),
        "ratchet.queue-starts" => ("the starts that queues' rate windows count (files store)", "the store's claims keep them"),
        "ratchet.definitions" => ("Ratchet's copies of the workflow files that runs started with", "DefinitionCatalog records them"),
        "ratchet.github" => ("the ids of Ratchet's GitHub progress comments", "the GitHub progress observer keeps them"),
        _ => ("Ratchet's own records", "only Ratchet writes to ratchet.* namespaces; use another namespace for your own values"),
    };
}

/// <summary>A write through the key-value API to a reserved <c>ratchet.*</c> namespace, which only its owner may change.</summary>
public sealed class ReservedNamespaceException : RatchetException
{
    /// <summary>Creates the exception for <paramref name="operation"/> (e.g. "save keys in it") on <paramref name="namespace"/>.</summary>
    public ReservedNamespaceException(string @namespace, string operation)
        : base(Describe(@namespace, operation))
    {
        Namespace = @namespace;
    }

    /// <summary>The namespace written to.</summary>
    public string Namespace { get; }

    /// <inheritdoc />
    public override string ErrorCode => "reserved-namespace";

    private static string Describe(string @namespace, string operation)
    {
        var (holds, managedBy) = ReservedNamespaces.Describe(@namespace);
        return $"The namespace '{@namespace}' is reserved for {holds}: StateManager can read it but not {operation}; {managedBy}.";
    }
}
