using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.State;
using Ratchet.Storage;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>kv save|load|delete|list|checkpoint|checkpoints|restore|migrate</c>: the seeds' state manager on the command line,
/// through the library's <see cref="StateManager"/>. Values are JSON; every write is one durable commit.
/// </summary>
internal static class KeyValueCommands
{
    /// <summary>How much of a value <c>kv list</c> shows on a terminal.</summary>
    private const int MaxPreview = 60;

    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        var ns = new Option<string>("--ns")
        {
            Description = "The namespace. Namespaces keep scripts' keys apart, e.g. one per workflow id.",
            DefaultValueFactory = _ => "default",
            Recursive = true,
        };
        yield return new Command("kv", "Key-value state: JSON values under keys in a namespace, and named checkpoints of a namespace to restore.")
        {
            ns,
            Save(output, error, ns),
            Load(output, error, ns),
            Delete(output, error, ns),
            List(output, error, ns),
            Checkpoint(output, error, ns),
            Checkpoints(output, error, ns),
            Restore(output, error, ns),
            MigrateCommands.KeyValues(output, error, ns),
        };
    }

    private static Argument<string> KeyArgument() => new("key") { Description = "The key (any text without '/', '\\' or control characters, up to 256 characters)." };

    private static Command Save(TextWriter output, TextWriter error, Option<string> ns)
    {
        var key = KeyArgument();
        var value = new Argument<string>("value") { Description = "The value as JSON (e.g. '\"building\"', 42, '[\"scout\",\"plan\"]', '{\"a\":1}'), or - to read it from standard input." };
        var text = new Option<bool>("--text") { Description = "Save the value as a JSON string, as it is (no JSON parsing): kv save phase building --text." };
        var command = new Command("save", "Save a value under a key (replacing what was there). Plain text that is not JSON is refused unless --text.") { key, value, text };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var raw = parse.GetValue(value)!;
            if (raw == "-")
            {
                using var reader = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
                raw = await reader.ReadToEndAsync(cancellationToken);
                raw = parse.GetValue(text) && raw.EndsWith('\n') ? raw[..^1] : raw;
            }

            JsonElement json;
            if (parse.GetValue(text))
            {
                json = JsonSerializer.SerializeToElement(raw, RatchetJsonContext.Default.String);
            }
            else
            {
                try
                {
                    json = RatchetJson.Parse(raw, $"The value for key '{parse.GetValue(key)}'");
                }
                catch (JsonException)
                {
                    var shown = raw.Length > 40 ? raw[..40] + "…" : raw;
                    throw new UsageException($"The value '{shown}' is not JSON. Quote a string as JSON ('\"{shown}\"') or pass --text to save it as a string.");
                }
            }

            var name = ValidKey(parse.GetValue(key)!);
            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {
                await manager.SaveAsync(name, json, cancellationToken);
                if (context.Json)
                {
                    context.WriteJson((await manager.GetAsync(name, cancellationToken))!);
                }
                else
                {
                    await context.Output.WriteLineAsync($"Saved '{name}' in namespace '{manager.Namespace}'.");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Load(TextWriter output, TextWriter error, Option<string> ns)
    {
        var key = KeyArgument();
        var raw = new Option<bool>("--raw", "-r") { Description = "Print a string value without quotes (other values as compact JSON), for shell scripts." };
        var command = new Command("load", "Print the JSON value saved under a key. A missing key is an error (exit 2).") { key, raw };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var name = ValidKey(parse.GetValue(key)!);
            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {
                var entry = await manager.GetAsync(name, cancellationToken) ?? throw new StateKeyNotFoundException(manager.Namespace, name);
                if (context.Json)
                {
                    context.WriteJson(entry);
                }
                else if (parse.GetValue(raw))
                {
                    await context.Output.WriteLineAsync(entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : JsonSerializer.Serialize(entry.Value));
                }
                else
                {
                    context.WriteJsonValue(entry.Value);
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Delete(TextWriter output, TextWriter error, Option<string> ns)
    {
        var key = KeyArgument();
        var command = new Command("delete", "Delete a key. Deleting a key that does not exist is not an error (it says so).") { key };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var name = ValidKey(parse.GetValue(key)!);
            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {
                var existed = await manager.DeleteAsync(name, cancellationToken);
                if (context.Json)
                {
                    StateCommands.WriteJsonObject(context.Output, writer =>
                    {
                        writer.WriteString("namespace", manager.Namespace);
                        writer.WriteString("key", name);
                        writer.WriteBoolean("deleted", existed);
                    });
                }
                else
                {
                    await context.Output.WriteLineAsync(existed
                        ? $"Deleted '{name}' from namespace '{manager.Namespace}'."
                        : $"No key '{name}' in namespace '{manager.Namespace}'; nothing to delete.");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command List(TextWriter output, TextWriter error, Option<string> ns)
    {
        var command = new Command("list", "List the namespace's keys with their versions, update times and values (cut on a terminal). --json prints the entries.");
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {
                var entries = await manager.ListAsync(cancellationToken);
                return await context.WriteListAsync(
                    entries,
                    () => StateCommands.WriteJsonArray(context.Output, entries, RatchetJsonContext.Indented.KeyValueEntry),
                    $"No keys in namespace '{manager.Namespace}'.",
                    ["KEY", "VERSION", "UPDATED", "VALUE"],
                    e => [e.Key, e.Version.ToString(CultureInfo.InvariantCulture), StateCommands.Time(e.UpdatedAt), Preview(e.Value, context.IsTerminal)]);
            }
        }));
        return command;
    }

    private static Command Checkpoint(TextWriter output, TextWriter error, Option<string> ns)
    {
        var name = new Argument<string?>("name")
        {
            Description = "The checkpoint's name (replaces a checkpoint of that name); default auto-yyyyMMdd-HHmmss-fff (UTC).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("checkpoint", "Copy the namespace's values into a named checkpoint, and print its name.") { name };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var given = parse.GetValue(name);
            if (given is not null)
            {
                Validate(given, "checkpoint name");
            }

            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {

                var created = await manager.CheckpointAsync(given, cancellationToken);
                if (context.Json)
                {
                    var info = (await manager.ListCheckpointsAsync(cancellationToken)).First(c => c.Name == created);
                    context.WriteJson(info);
                }
                else
                {
                    await context.Output.WriteLineAsync(created);
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Checkpoints(TextWriter output, TextWriter error, Option<string> ns)
    {
        var command = new Command("checkpoints", "List the namespace's checkpoints, oldest first. --json prints them.");
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {
                var checkpoints = await manager.ListCheckpointsAsync(cancellationToken);
                return await context.WriteListAsync(
                    checkpoints,
                    () => StateCommands.WriteJsonArray(context.Output, checkpoints, RatchetJsonContext.Indented.CheckpointInfo),
                    $"No checkpoints in namespace '{manager.Namespace}'.",
                    ["NAME", "CREATED", "KEYS"],
                    c => [c.Name, StateCommands.Time(c.CreatedAt), c.EntryCount.ToString(CultureInfo.InvariantCulture)]);
            }
        }));
        return command;
    }

    private static Command Restore(TextWriter output, TextWriter error, Option<string> ns)
    {
        var name = new Argument<string>("name") { Description = "The checkpoint to restore." };
        var command = new Command("restore", "Make the namespace hold exactly the checkpoint's values, atomically (keys added since are deleted). A missing checkpoint is an error (exit 2).") { name };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var checkpoint = Validate(parse.GetValue(name)!, "checkpoint name");
            var (manager, store) = await OpenAsync(context, parse, ns, cancellationToken);
            await using (store)
            {
                await manager.RestoreAsync(checkpoint, cancellationToken);
                var keys = (await manager.ListKeysAsync(cancellationToken)).Count;
                if (context.Json)
                {
                    StateCommands.WriteJsonObject(context.Output, writer =>
                    {
                        writer.WriteString("namespace", manager.Namespace);
                        writer.WriteString("checkpoint", checkpoint);
                        writer.WriteNumber("keys", keys);
                    });
                }
                else
                {
                    await context.Output.WriteLineAsync($"Restored namespace '{manager.Namespace}' from checkpoint '{checkpoint}' ({keys} key{(keys == 1 ? "" : "s")}).");
                }
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>The manager of the chosen namespace, with its store (the caller disposes the store).</summary>
    private static async Task<(StateManager Manager, IRatchetStore Store)> OpenAsync(CliContext context, ParseResult parse, Option<string> ns, CancellationToken cancellationToken)
    {
        // Checked before the store is opened, so a bad name never creates a database file.
        var name = Validate(parse.GetValue(ns)!, "namespace");
        var store = await context.OpenStoreAsync(cancellationToken);
        return (new StateManager(store, name), store);
    }

    private static string ValidKey(string key) => Validate(key, "key");

    /// <summary>The library's name rules, with its message but without the "(Parameter ...)" suffix meant for programmers.</summary>
    private static string Validate(string value, string what)
    {
        try
        {
            KeyValueNames.ValidateName(value, what, "value");
            return value;
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message.Replace(" (Parameter 'value')", "", StringComparison.Ordinal));
        }
    }

    private static string Preview(JsonElement value, bool cut)
    {
        var text = value.GetRawText();
        text = string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return cut && text.Length > MaxPreview ? text[..(MaxPreview - 1)] + "…" : text;
    }
}
