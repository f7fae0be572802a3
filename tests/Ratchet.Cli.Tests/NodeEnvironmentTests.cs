using System.Security.Cryptography;
using System.Text;

namespace Ratchet.Cli.Tests;

/// <summary>
/// What a node's command inherits from <c>ratchet</c>: never Ratchet's own secrets (the master key, where its file is,
/// the store URI with its password), and what it finds of them elsewhere is never recorded in clear.
/// </summary>
public sealed class NodeEnvironmentTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();

    // Fresh per test: no secret is committed, and a match can only come from this test.
    private readonly string _masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly string _storePassword = "pg-pw-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    public NodeEnvironmentTests()
    {
        _sandbox.Environment["RATCHET_MASTER_KEY"] = _masterKey;
    }

    public void Dispose() => _sandbox.Dispose();

    /// <summary>
    /// RATCHET_STORE names a PostgreSQL store with a password; <c>--store</c> (the sandbox's SQLite file) wins, but the
    /// variable is still in the environment <c>ratchet</c> was started with.
    /// </summary>
    private Dictionary<string, string> StoreVariable => new() { ["RATCHET_STORE"] = $"postgres://ratchet:{_storePassword}@db.invalid:5432/ratchet" };

    [Fact]
    public async Task Run_NodeRunningEnv_GetsNoRatchetSecretAndNothingRecordsThem()
    {
        // Copies the nodes find on their own: Ratchet cannot stop that, but must not record them.
        _sandbox.Write("found/key.txt", _masterKey + "\n");
        _sandbox.Write("found/password.txt", _storePassword + "\n");
        _sandbox.Write("envs.yaml", """
            name: envs
            nodes:
              dump:
                run: env
              found:
                run: cat found/key.txt && cat found/password.txt >&2
            """);

        var run = await _sandbox.Start(["run", "envs.yaml", "--id", "envs-1"], environment: StoreVariable).WaitAsync();
        var show = await _sandbox.Start(["state", "show", "envs-1", "--json"], environment: StoreVariable).WaitAsync();
        var trace = await _sandbox.Start(["trace", "envs-1"], environment: StoreVariable).WaitAsync();
        var export = await _sandbox.Start(["state", "export"], environment: StoreVariable).WaitAsync();

        Assert.True(run.ExitCode == 0, run.ToString());
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            var workflow = await store.GetRequiredWorkflowAsync("envs-1");
            var dump = workflow.Artifacts["dump"].GetString()!;
            Assert.Contains("RATCHET_WORKFLOW_ID=envs-1", dump, StringComparison.Ordinal);
            var inherited = Variables(dump);
            Assert.False(inherited.ContainsKey("RATCHET_MASTER_KEY"), dump);
            Assert.False(inherited.ContainsKey("RATCHET_MASTER_KEY_FILE"), dump);
            Assert.False(inherited.ContainsKey("RATCHET_STORE"), dump);

            // The master key is masked in the artifact too: it is Ratchet's, and no store or export may hold it.
            Assert.Equal("***", workflow.Artifacts["found"].GetString());
            var commands = await store.GetCommandsAsync("envs-1");
            var found = Assert.Single(commands, c => c.Node == "found");
            Assert.Equal(("***", "***"), (found.StdoutTail.Trim(), found.StderrTail.Trim()));
            Assert.All(commands, c => AssertHoldsNoSecret(c.CommandLine + c.StdoutTail + c.StderrTail, $"the command record of '{c.Node}'"));
        }

        foreach (var result in new[] { run, show, trace, export })
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            AssertHoldsNoSecret(result.Stdout + result.Stderr, "the CLI's output");
        }

        Assert.Contains("\"envs-1\"", export.Stdout, StringComparison.Ordinal);
        Assert.Contains("RATCHET_WORKFLOW_ID=envs-1", File.ReadAllText(_sandbox.File("runs/envs-1/logs/dump.log")), StringComparison.Ordinal);
        AssertNoFileHoldsASecret();
    }

    [Fact]
    public async Task Phase_RunningEnv_GetsTheStoreButNotTheMasterKey()
    {
        var result = await _sandbox.ShellAsync("""
            set -o pipefail
            ratchet state new --type envs --id phase-1 | ratchet phase dump -- env > /dev/null
            """);

        Assert.True(result.ExitCode == 0, result.ToString());
        await using var store = await _sandbox.OpenStoreAsync();
        var dump = (await store.GetRequiredWorkflowAsync("phase-1")).Artifacts["dump"].GetString()!;
        var inherited = Variables(dump);
        Assert.Equal("phase-1", inherited["RATCHET_WORKFLOW_ID"]);
        Assert.Equal(_sandbox.Store, inherited["RATCHET_STORE"]);
        Assert.False(inherited.ContainsKey("RATCHET_MASTER_KEY"), dump);
        Assert.False(inherited.ContainsKey("RATCHET_MASTER_KEY_FILE"), dump);
        AssertNoFileHoldsASecret();
    }

    /// <summary>The variables in <c>env</c>'s output (the first line of each name: a value may span lines).</summary>
    private static Dictionary<string, string> Variables(string env)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in env.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                variables.TryAdd(line[..equals], line[(equals + 1)..]);
            }
        }

        return variables;
    }

    private void AssertHoldsNoSecret(string text, string what)
    {
        Assert.False(text.Contains(_masterKey, StringComparison.Ordinal), $"{what} holds the master key in clear:\n{text}");
        Assert.False(text.Contains(_storePassword, StringComparison.Ordinal), $"{what} holds the store password in clear:\n{text}");
    }

    /// <summary>Every byte the CLI left behind (the database and its WAL, logs, run folders), except the copies the test planted.</summary>
    private void AssertNoFileHoldsASecret()
    {
        var files = Directory.GetFiles(_sandbox.Path, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(_sandbox.File("found") + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToArray();
        Assert.Contains(files, f => f.EndsWith(".log", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(_masterKey)) < 0, $"{file} holds the master key in clear.");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(_storePassword)) < 0, $"{file} holds the store password in clear.");
        }
    }
}
