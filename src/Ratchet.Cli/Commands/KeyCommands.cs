using System.CommandLine;
using Ratchet.Agents;
using Ratchet.Secrets;

namespace Ratchet.Cli.Commands;

/// <summary><c>keys status|rotate|generate</c>: the master keys that encrypt providers' API keys.</summary>
internal static class KeyCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return new Command("keys", $"The master keys that encrypt API keys: ${MasterKeySource.KeyVariable}, else the key file (${MasterKeySource.KeyFileVariable}, default {MasterKeySource.DefaultKeyFile()}).")
        {
            Status(output, error),
            Rotate(output, error),
            Generate(output, error),
        };
    }

    private static Command Status(TextWriter output, TextWriter error)
    {
        var command = new Command("status", "Show where the master keys come from, their ids (never the keys), and which key each provider's API key is encrypted under.");
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var source = MasterKeySource.FromEnvironment();
            var ring = source.Load();
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var providers = await new AgentDirectory(store).ListProvidersAsync(cancellationToken);
            var rows = providers.Where(p => p.HasApiKey).Select(p => new
            {
                provider = p.Name,
                masterKeyId = p.ApiKeyMasterKeyId,
                readable = p.ApiKeyMasterKeyId is { } id && ring.Find(id) is not null,
                current = p.ApiKeyMasterKeyId == ring.Current.Id,
            }).ToArray();
            if (context.Json)
            {
                context.WriteJson(new { source = ring.Source, current = ring.Current.Id, retired = ring.Keys.Skip(1).Select(k => k.Id).ToArray(), providers = rows });
                return ExitCodes.Ok;
            }

            await context.Output.WriteLineAsync($"Master keys from {ring.Source}: current {ring.Current.Id}" +
                (ring.Keys.Count > 1 ? $", retired {string.Join(", ", ring.Keys.Skip(1).Select(k => k.Id))}." : "."));
            context.WriteTable(["PROVIDER", "MASTER KEY", "STATE"], rows.Select(r => (IReadOnlyList<string>)[
                r.provider, r.masterKeyId ?? "?", r.current ? "current" : r.readable ? "retired key: run `ratchet keys rotate`" : "UNREADABLE: not encrypted under these keys"]));
            return rows.All(r => r.readable) ? ExitCodes.Ok : ExitCodes.KeyProblem;
        }));
        return command;
    }

    private static Command Rotate(TextWriter output, TextWriter error)
    {
        var dropOld = new Option<bool>("--drop-old") { Description = "After re-encrypting, remove the retired keys from the key file. Only when no other store or export still needs them." };
        var command = new Command("rotate",
            "Make a new master key current and re-encrypt every API key in this store under it, in one commit. With a key file, the new key is " +
            $"added to it first and the old one kept as retired (so nothing is unreadable at any moment); with ${MasterKeySource.KeyVariable}, " +
            "re-encrypts under its first key (set it to NEW,OLD first).")
        {
            dropOld,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var source = MasterKeySource.FromEnvironment();
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var directory = new AgentDirectory(store, new AgentDirectoryOptions { MasterKeys = source });
            if (source.IsDirect)
            {
                if (parse.GetValue(dropOld))
                {
                    throw new UsageException($"--drop-old edits the key file, but the keys come from ${MasterKeySource.KeyVariable}: remove the old key from that variable yourself once this store is rotated.");
                }

                var ring = source.Load();
                var count = await directory.ReencryptAsync(ring, cancellationToken);
                await context.Output.WriteLineAsync(count > 0 || ring.Keys.Count > 1
                    ? $"Re-encrypted {count} API key(s) under master key {ring.Current.Id} (the first key of ${MasterKeySource.KeyVariable}). Once every store is rotated, set ${MasterKeySource.KeyVariable} to that key alone."
                    : $"Every API key is already under master key {ring.Current.Id}. To rotate a key given in ${MasterKeySource.KeyVariable}: run `ratchet keys generate`, set ${MasterKeySource.KeyVariable}=NEW,OLD, run `ratchet keys rotate`, then set it to NEW alone.");
                return ExitCodes.Ok;
            }

            // The new key is written (with the old one retired) before anything is re-encrypted under it, and the old
            // key is dropped only after the commit: an interruption at any point leaves every API key readable.
            var old = MasterKeyFile.LoadOrCreate(source.KeyFile);
            var rotated = old.Prepend(MasterKey.Generate());
            MasterKeyFile.Save(source.KeyFile, rotated);
            var reencrypted = await directory.ReencryptAsync(rotated, cancellationToken);
            if (parse.GetValue(dropOld))
            {
                MasterKeyFile.Save(source.KeyFile, rotated.WithoutRetired());
            }

            await context.Output.WriteLineAsync(
                $"New master key {rotated.Current.Id} in {source.KeyFile}; re-encrypted {reencrypted} API key(s) in {store.Description}. " +
                (parse.GetValue(dropOld)
                    ? "Retired keys were removed from the key file."
                    : $"Retired key(s) {string.Join(", ", old.Keys.Select(k => k.Id))} stay in the key file for other stores and exports; run `ratchet keys rotate --drop-old` once none needs them."));
            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Generate(TextWriter output, TextWriter error)
    {
        var command = new Command("generate", $"Print a new random master key (base64), for ${MasterKeySource.KeyVariable}. Treat the output as a secret.");
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            await context.Output.WriteLineAsync(MasterKey.Generate().ToBase64());
            return ExitCodes.Ok;
        }));
        return command;
    }
}
