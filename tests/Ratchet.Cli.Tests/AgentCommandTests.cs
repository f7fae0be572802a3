using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ratchet.Cli.Tests;

/// <summary>
/// <c>provider</c>, <c>agent</c> and <c>keys</c> as a user runs them, and the promise behind them: an API key is never
/// in clear in the store's files, logs, exports, audits or the CLI's output, except from <c>provider show --reveal</c>.
/// </summary>
public sealed class AgentCommandTests : IDisposable
{
    private const string AgentWorkflow = """
        name: agentic
        nodes:
          ask:
            agent: reviewer
            run: |
              echo "model=$RATCHET_AGENT_MODEL kind=$RATCHET_AGENT_KIND tools=$RATCHET_AGENT_TOOLS temperature=$RATCHET_AGENT_TEMPERATURE key=$RATCHET_AGENT_API_KEY"
              echo "stderr key=$RATCHET_AGENT_API_KEY" >&2
        """;

    private readonly CliSandbox _sandbox = new();

    // A fresh key per test: no secret is committed, and a match can only come from this test.
    private readonly string _apiKey = "sk-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public AgentCommandTests()
    {
        _sandbox.Environment["TEST_PROVIDER_KEY"] = _apiKey;
    }

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Provider_AddListShow_NeverPrintsTheKeyButRevealDoes()
    {
        var added = await _sandbox.RunAsync("provider", "add", "openai", "--api-key-env", "TEST_PROVIDER_KEY", "--base-url", "https://api.example.com/v1");
        var list = await _sandbox.RunAsync("provider", "list");
        var show = await _sandbox.RunAsync("provider", "show", "openai");
        var json = await _sandbox.RunAsync("provider", "show", "openai", "--json");
        var reveal = await _sandbox.RunAsync("provider", "show", "openai", "--reveal");

        foreach (var result in new[] { added, list, show, json })
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.DoesNotContain(_apiKey, result.Stdout + result.Stderr, StringComparison.Ordinal);
        }

        Assert.Contains(list.StdoutLines, l => l.StartsWith("openai\tyes\tencrypted (master key ", StringComparison.Ordinal));
        var view = JsonDocument.Parse(json.Stdout).RootElement;
        Assert.Equal("https://api.example.com/v1", view.GetProperty("baseUrl").GetString());
        Assert.StartsWith("encrypted", view.GetProperty("apiKey").GetString(), StringComparison.Ordinal);
        Assert.False(view.TryGetProperty("encryptedApiKey", out _));
        Assert.True(reveal.ExitCode == 0, reveal.ToString());
        Assert.Equal(_apiKey, reveal.Stdout.TrimEnd('\n'));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_sandbox.MasterKeyFile));
    }

    [Fact]
    public async Task Provider_AddWithoutKeySource_RefusedWithExit2()
    {
        var result = await _sandbox.RunAsync("provider", "add", "openai");

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("ratchet: error[usage]: Give the API key with --api-key-env", result.Stderr, StringComparison.Ordinal);
        Assert.Empty((await _sandbox.RunAsync("provider", "list", "--json")).Stdout.Trim().Trim('[', ']').Trim());
    }

    [Fact]
    public async Task Provider_AddFromStdin_StoresTheKey()
    {
        using var process = _sandbox.Start(["provider", "add", "local", "--api-key-stdin"], standardInput: _apiKey + "\n");
        var added = await process.WaitAsync();

        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Equal(_apiKey, (await _sandbox.RunAsync("provider", "show", "local", "--reveal")).Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task Agent_AddInvalidSettings_ListsEveryProblemOnOneLine()
    {
        await AddProviderAsync();

        var result = await _sandbox.RunAsync("agent", "add", "Bad_Name", "--provider", "openai", "--model", "gpt-4o", "--temperature", "3", "--max-tokens", "0");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("ratchet: error[invalid-settings]: Agent profile 'Bad_Name' is not valid: name 'Bad_Name' must be a slug", line, StringComparison.Ordinal);
        Assert.Contains("temperature 3 is outside 0 to 2", line, StringComparison.Ordinal);
        Assert.Contains("max tokens 0 is outside 1 to", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProviderRemove_UsedByAgents_RefusedUnlessCascade()
    {
        await AddProviderAsync();
        await AddAgentAsync("reviewer");
        await AddAgentAsync("planner");

        var refused = await _sandbox.RunAsync("provider", "remove", "openai");
        var stillThere = await _sandbox.RunAsync("agent", "list");
        var cascaded = await _sandbox.RunAsync("provider", "remove", "openai", "--cascade");
        var agentsAfter = await _sandbox.RunAsync("agent", "list", "--json");
        var providersAfter = await _sandbox.RunAsync("provider", "list", "--json");

        Assert.Equal(2, refused.ExitCode);
        Assert.Equal(
            "ratchet: error[provider-in-use]: Provider 'openai' is used by 2 agent profiles (planner, reviewer). Move them to another provider with `ratchet agent update NAME --provider P`, or remove them with the provider (`--cascade`).",
            refused.Stderr.TrimEnd('\n'));
        Assert.Equal(3, stillThere.StdoutLines.Count);
        Assert.True(cascaded.ExitCode == 0, cascaded.ToString());
        Assert.Equal("Removed provider 'openai' and the agent profiles that used it: planner, reviewer.", cascaded.Stdout.TrimEnd('\n'));
        Assert.Equal(0, JsonDocument.Parse(agentsAfter.Stdout).RootElement.GetArrayLength());
        Assert.Equal(0, JsonDocument.Parse(providersAfter.Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Agent_UpdateAndShow_KeepsWhatIsNotGiven()
    {
        await AddProviderAsync();
        await AddAgentAsync("reviewer");

        var updated = await _sandbox.RunAsync("agent", "update", "reviewer", "--model", "gpt-5", "--no-tools", "--max-tokens", "2048");
        var shown = JsonDocument.Parse((await _sandbox.RunAsync("agent", "show", "reviewer", "--json")).Stdout).RootElement;

        Assert.True(updated.ExitCode == 0, updated.ToString());
        Assert.Equal("gpt-5", shown.GetProperty("model").GetString());
        Assert.Equal("specialist", shown.GetProperty("kind").GetString());
        Assert.Equal(0.2, shown.GetProperty("temperature").GetDouble());
        Assert.Equal(2048, shown.GetProperty("maxTokens").GetInt32());
        Assert.Equal(0, shown.GetProperty("tools").GetArrayLength());
        Assert.Equal("Review the change.", shown.GetProperty("systemPrompt").GetString());
    }

    [Fact]
    public async Task Reveal_UnderAnotherMasterKey_FailsWithOneLineAndExit5()
    {
        await AddProviderAsync();
        _sandbox.Environment["RATCHET_MASTER_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        var result = await _sandbox.RunAsync("provider", "show", "openai", "--reveal");

        Assert.Equal(5, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.Matches(
            "^ratchet: error\\[master-key-mismatch\\]: The API key of provider 'openai' was encrypted under master key [0-9a-f]{12}, but the master key in use \\(RATCHET_MASTER_KEY\\) is [0-9a-f]{12} and no retired key there matches\\. ",
            line);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task MasterKey_MalformedInEnvironment_FailsWithExit5()
    {
        _sandbox.Environment["RATCHET_MASTER_KEY"] = "not-a-key";

        var result = await _sandbox.RunAsync("provider", "add", "openai", "--api-key-env", "TEST_PROVIDER_KEY");

        Assert.Equal(5, result.ExitCode);
        Assert.StartsWith("ratchet: error[master-key-unavailable]: The master key from RATCHET_MASTER_KEY is not a 32-byte key", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task MasterKeyFile_ReadableByOthers_Refused()
    {
        await AddProviderAsync();
        File.SetUnixFileMode(_sandbox.MasterKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await _sandbox.RunAsync("provider", "show", "openai", "--reveal");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("(mode 0644); it must be private to its owner. Run `chmod 600", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysRotate_ReencryptsUnderANewKey_AndDropOldRemovesTheRetiredKey()
    {
        await AddProviderAsync();
        var before = JsonDocument.Parse((await _sandbox.RunAsync("provider", "show", "openai", "--json")).Stdout).RootElement.GetProperty("masterKeyId").GetString();

        var rotated = await _sandbox.RunAsync("keys", "rotate");
        var after = JsonDocument.Parse((await _sandbox.RunAsync("provider", "show", "openai", "--json")).Stdout).RootElement.GetProperty("masterKeyId").GetString();
        var keysAfterRotate = KeyLines();
        var dropped = await _sandbox.RunAsync("keys", "rotate", "--drop-old");
        var reveal = await _sandbox.RunAsync("provider", "show", "openai", "--reveal");

        Assert.True(rotated.ExitCode == 0, rotated.ToString());
        Assert.NotEqual(before, after);
        Assert.Equal(2, keysAfterRotate.Count);
        Assert.True(dropped.ExitCode == 0, dropped.ToString());
        Assert.Single(KeyLines());
        Assert.DoesNotContain(KeyLines()[0], keysAfterRotate);
        Assert.Equal(_apiKey, reveal.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task Run_AgentNode_GetsTheProfileAndTheKeyIsNeverRecordedInClear()
    {
        await AddProviderAsync();
        await AddAgentAsync("reviewer");
        _sandbox.Write("agentic.yaml", AgentWorkflow);

        var run = await _sandbox.RunAsync("run", "agentic.yaml", "--id", "agent-1");
        var show = await _sandbox.RunAsync("state", "show", "agent-1", "--json");
        var trace = await _sandbox.RunAsync("trace", "agent-1");
        var export = await _sandbox.RunAsync("state", "export", "--out", "export.json");
        var omitted = await _sandbox.RunAsync("state", "export", "--format", "jsonl", "--omit-secrets", "--out", "omitted.jsonl");

        Assert.True(run.ExitCode == 0, run.ToString());
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            var artifact = (await store.GetRequiredWorkflowAsync("agent-1")).Artifacts["ask"].GetString();
            Assert.Equal("model=gpt-4o kind=specialist tools=fs.read,git temperature=0.2 key=***", artifact);
            var command = Assert.Single(await store.GetCommandsAsync("agent-1"));
            Assert.Contains("key=***", command.StdoutTail, StringComparison.Ordinal);
            Assert.Contains("stderr key=***", command.StderrTail, StringComparison.Ordinal);
        }

        Assert.Contains("\"encryptedApiKey\":\"v1:", File.ReadAllText(_sandbox.File("export.json")).Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("encryptedApiKey", File.ReadAllText(_sandbox.File("omitted.jsonl")), StringComparison.Ordinal);
        Assert.Contains("\"ratchet.providers\"", File.ReadAllText(_sandbox.File("omitted.jsonl")), StringComparison.Ordinal);
        foreach (var result in new[] { run, show, trace, export, omitted })
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.DoesNotContain(_apiKey, result.Stdout + result.Stderr, StringComparison.Ordinal);
        }

        // Every byte the CLI left behind: the database and its WAL, logs, run folders, exports.
        AssertNoFileHoldsTheKey();
    }

    [Fact]
    public async Task Run_AgentNodeWithUnknownAgentOrInactiveProvider_FailsNamingIt()
    {
        await AddProviderAsync();
        _sandbox.Write("agentic.yaml", AgentWorkflow);

        var unknown = await _sandbox.RunAsync("run", "agentic.yaml", "--id", "unknown-1");
        await AddAgentAsync("reviewer");
        Assert.Equal(0, (await _sandbox.RunAsync("provider", "update", "openai", "--inactive")).ExitCode);
        var inactive = await _sandbox.RunAsync("run", "agentic.yaml", "--id", "inactive-1");

        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("No agent profile is named 'reviewer'", unknown.Stdout, StringComparison.Ordinal);
        Assert.Equal(1, inactive.ExitCode);
        Assert.Contains("Agent 'reviewer' uses provider 'openai', which is inactive", inactive.Stdout, StringComparison.Ordinal);
    }

    private IReadOnlyList<string> KeyLines() =>
        File.ReadAllLines(_sandbox.MasterKeyFile).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    private void AssertNoFileHoldsTheKey()
    {
        var needle = Encoding.UTF8.GetBytes(_apiKey);
        var files = Directory.GetFiles(_sandbox.Path, "*", SearchOption.AllDirectories);
        Assert.Contains(files, f => f.EndsWith("state.db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(file);
            Assert.True(bytes.AsSpan().IndexOf(needle) < 0, $"{file} holds the API key in clear.");
        }
    }

    private async Task AddProviderAsync()
    {
        var result = await _sandbox.RunAsync("provider", "add", "openai", "--api-key-env", "TEST_PROVIDER_KEY");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private async Task AddAgentAsync(string name)
    {
        var result = await _sandbox.RunAsync(
            "agent", "add", name, "--provider", "openai", "--model", "gpt-4o", "--kind", "specialist",
            "--tool", "fs.read", "--tool", "git", "--temperature", "0.2", "--system-prompt", "Review the change.");
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
