using System.Security.Cryptography;
using Ratchet.Serialization;

namespace Ratchet.Cli.Tests;

/// <summary>
/// The <c>ratchet.*</c> namespaces hold Ratchet's own records (providers, agents, triggers, recorded workflow files):
/// <c>kv</c> reads them but never writes them; the command that owns each one does.
/// </summary>
public sealed class ReservedNamespaceTests : IDisposable
{
    private readonly CliSandbox _sandbox = new();
    private readonly string _apiKey = "sk-test-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    public ReservedNamespaceTests()
    {
        _sandbox.Environment["TEST_PROVIDER_KEY"] = _apiKey;
    }

    public void Dispose() => _sandbox.Dispose();

    [Fact]
    public async Task KvSave_OverAProviderRecord_RefusedWithExit2AndTheProviderStillWorks()
    {
        await OkAsync("provider", "add", "openai", "--api-key-env", "TEST_PROVIDER_KEY");

        var save = await _sandbox.RunAsync("kv", "save", "openai", "\"junk\"", "--ns", "ratchet.providers");
        var reveal = await _sandbox.RunAsync("provider", "show", "openai", "--reveal");

        Assert.Equal(2, save.ExitCode);
        Assert.Empty(save.Stdout);
        var line = Assert.Single(save.StderrLines);
        Assert.StartsWith("ratchet: error[reserved-namespace]: ", line, StringComparison.Ordinal);
        Assert.Contains("'ratchet.providers'", line, StringComparison.Ordinal);
        Assert.Contains("`ratchet provider", line, StringComparison.Ordinal);
        Assert.True(reveal.ExitCode == 0, reveal.ToString());
        Assert.Equal(_apiKey, reveal.Stdout.Trim());
    }

    [Theory]
    [InlineData("ratchet.agents", "`ratchet agent")]
    [InlineData("ratchet.triggers", "`ratchet trigger")]
    [InlineData("ratchet.definitions", "`ratchet run`")]
    [InlineData("ratchet.later", "use another namespace")]
    public async Task KvWrites_InAReservedNamespace_AreEachRefusedNamingWhoManagesIt(string ns, string manager)
    {
        await using (var store = await _sandbox.OpenStoreAsync())
        {
            // What the owner wrote, and a checkpoint made before writes were refused.
            await store.SaveValueAsync(ns, "kept", RatchetJson.Parse("""{"owner": true}"""));
            await store.CreateCheckpointAsync(ns, "old");
            await store.SaveValueAsync(ns, "later", RatchetJson.Parse("1"));
        }

        string[][] writes =
        [
            ["kv", "save", "kept", "\"junk\"", "--ns", ns],
            ["kv", "delete", "kept", "--ns", ns],
            ["kv", "restore", "old", "--ns", ns],
            ["kv", "checkpoint", "mine", "--ns", ns],
        ];
        foreach (var write in writes)
        {
            var result = await _sandbox.RunAsync(write);
            Assert.True(result.ExitCode == 2, $"ratchet {string.Join(' ', write)}: {result}");
            var line = Assert.Single(result.StderrLines);
            Assert.StartsWith("ratchet: error[reserved-namespace]: ", line, StringComparison.Ordinal);
            Assert.Contains($"'{ns}'", line, StringComparison.Ordinal);
            Assert.Contains(manager, line, StringComparison.Ordinal);
        }

        // Reads still work, and nothing was changed.
        Assert.Equal("""{"owner":true}""", (await OkAsync("kv", "load", "kept", "--ns", ns, "--raw")).Stdout.Trim());
        Assert.Equal(2, (await OkAsync("kv", "list", "--ns", ns)).StdoutLines.Count - 1);
        Assert.Equal(["old"], (await OkAsync("kv", "checkpoints", "--ns", ns)).StdoutLines.Skip(1).Select(l => l.Split('\t')[0]));
    }

    [Fact]
    public async Task KvWrites_InANamespaceThatOnlyLooksReserved_AreAllowed()
    {
        await OkAsync("kv", "save", "k", "1", "--ns", "ratchet");
        await OkAsync("kv", "save", "k", "1", "--ns", "my.ratchet.providers");
        await OkAsync("kv", "checkpoint", "c", "--ns", "ratchet");
        await OkAsync("kv", "restore", "c", "--ns", "ratchet");
        await OkAsync("kv", "delete", "k", "--ns", "ratchet");
    }

    private async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await _sandbox.RunAsync(args);
        Assert.True(result.ExitCode == 0, $"ratchet {string.Join(' ', args)}: {result}");
        return result;
    }
}
