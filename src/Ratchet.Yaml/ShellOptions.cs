using Ratchet.Storage;

namespace Ratchet.Yaml;

/// <summary>Where and how YAML workflows' shell commands run.</summary>
public sealed record ShellOptions
{
    /// <summary>Per-workflow run folders (<c>{RunsDirectory}/{id}/logs/{node}.log</c>). Default <c>.ratchet/runs</c>.</summary>
    public string RunsDirectory { get; init; } = Path.Combine(".ratchet", "runs");

    /// <summary>Isolated workspaces (<c>{WorkspacesDirectory}/{id}</c>). Default <c>.ratchet/workspaces</c>.</summary>
    public string WorkspacesDirectory { get; init; } = Path.Combine(".ratchet", "workspaces");

    /// <summary>The shell. Default <c>/bin/sh</c>; commands run as <c>{Shell} -c "command"</c>.</summary>
    public string Shell { get; init; } = "/bin/sh";

    /// <summary>
    /// How much of standard output and standard error the audit keeps, from the end, in characters (secrets masked),
    /// however long the lines. Default 4 KiB.
    /// </summary>
    public int TailBytes { get; init; } = 4096;

    /// <summary>
    /// The largest standard output (UTF-8 bytes) a node may produce as its artifact. Past it the node fails; the rest
    /// of its output is counted, not kept. Default 16 MiB.
    /// </summary>
    public int MaxOutputBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// How much of both output streams (UTF-8 bytes) one attempt writes to the node's log. Past it the log says it was
    /// cut, and at the end how much it did not keep; the command runs on regardless. Default 64 MiB.
    /// </summary>
    public long MaxLogBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>The store, for workspace records. Null: workspaces are created but not recorded.</summary>
    public IRatchetStore? Store { get; init; }

    /// <summary>
    /// Secrets masked wherever a command is recorded: its command line, output tails, log and events. Default every
    /// secret of the process's environment (<see cref="SecretRedactor.FromEnvironment"/>); the node's own secret-named
    /// variables, <see cref="ArtifactRedactor"/>'s secrets and an agent's API key are always added.
    /// </summary>
    public SecretRedactor Redactor { get; init; } = SecretRedactor.FromEnvironment(EnvironmentVariables());

    /// <summary>
    /// Secrets masked in a node's artifact (its standard output) as well: keys Ratchet holds and never gives a command,
    /// so a command can only print one it found elsewhere, and no store, export or trace may hold it. They are long and
    /// random, so masking them never changes an artifact by chance (unlike a user's own secrets, which are masked only
    /// in records). Default the master keys of <c>RATCHET_MASTER_KEY</c>; an agent's API key is added per node.
    /// </summary>
    public SecretRedactor ArtifactRedactor { get; init; } = SecretRedactor.MasterKeysFromEnvironment(EnvironmentVariables());

    /// <summary>
    /// Variables of this process that commands do not inherit. Default <see cref="DefaultWithheldVariables"/>: Ratchet's
    /// own secrets. A node's <c>env</c> (or a request's variables) may still set one explicitly. Withholding a variable
    /// does not mask its value: add it to <see cref="Redactor"/> for that.
    /// </summary>
    public IReadOnlyCollection<string> WithheldVariables { get; init; } = DefaultWithheldVariables;

    /// <summary>
    /// <c>RATCHET_MASTER_KEY</c> and <c>RATCHET_MASTER_KEY_FILE</c> (the master key, and where to find it) and
    /// <c>RATCHET_STORE</c> (the store URI, which may carry the store's password).
    /// </summary>
    public static IReadOnlyCollection<string> DefaultWithheldVariables { get; } =
        [Ratchet.Secrets.MasterKeySource.KeyVariable, Ratchet.Secrets.MasterKeySource.KeyFileVariable, SecretRedactor.StoreVariable];

    /// <summary>Settings added to a command's environment by an <c>agent:</c> name, and secrets to mask; null: agents are not available.</summary>
    public Func<string, CancellationToken, Task<AgentEnvironment>>? ResolveAgent { get; init; }

    /// <summary>The process's environment, as pairs.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> EnvironmentVariables() =>
        System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => new KeyValuePair<string, string?>((string)e.Key, e.Value as string));
}

/// <summary>What an agent profile adds to a command: environment variables, and which of their values are secret.</summary>
public sealed record AgentEnvironment(IReadOnlyDictionary<string, string> Variables, IReadOnlyList<string> Secrets);
