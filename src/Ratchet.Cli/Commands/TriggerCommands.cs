using System.CommandLine;
using Ratchet.Storage;
using Ratchet.Triggers;
using Ratchet.Yaml;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>trigger add|list|show|remove|enable|disable</c>: the store's triggers through the library's
/// <see cref="TriggerCatalog"/>. A trigger starts a workflow when another reaches a status; see docs/TRIGGERS.md.
/// </summary>
internal static class TriggerCommands
{
    /// <summary>The statuses <c>--status</c> accepts: every status a workflow can move to (it starts Pending).</summary>
    private static readonly string[] Statuses = ["completed", "failed", "cancelled", "waiting", "running"];

    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return new Command("trigger", "Triggers: when a workflow of a type (or one workflow) reaches a status and a condition on its output holds, start another workflow with input built from that output. Fired in the commit that moves the first workflow, so exactly once.")
        {
            Add(output, error),
            List(output, error),
            Show(output, error),
            Remove(output, error),
            Enable(output, error, enabled: true),
            Enable(output, error, enabled: false),
        };
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The trigger's name." };

    private static Command Add(TextWriter output, TextWriter error)
    {
        var name = new Argument<string>("name") { Description = "The trigger's name: letters, digits, '-', '_' or '.', unique in the store." };
        var whenType = new Option<string?>("--when-type") { Description = "Fire for every workflow of this type (the workflow file's name)." };
        var whenId = new Option<string?>("--when-id") { Description = "Fire for this one workflow." };
        var status = new Option<string>("--status") { Description = "The status that fires it (default completed).", DefaultValueFactory = _ => "completed" };
        status.AcceptOnlyFromAmong(Statuses);
        var condition = new Option<string?>("--if") { Description = "A condition over the workflow's output, e.g. \"output.approved and output.pr > 0\"; roots: output, artifacts, inputs, workflow." };
        var start = new Option<string>("--start")
        {
            Description = "The workflow to start: a type recorded in the store (one that has run here), or a workflow file, which is then recorded so that workers can run it.",
            Required = true,
        };
        var inputs = new Option<string[]>("--input", "-i") { Description = "A field of the started workflow's input as FIELD=EXPR, e.g. --input pr=output.pr; repeat for more.", AllowMultipleArgumentsPerToken = false };
        var allowCycle = new Option<bool>("--allow-cycle") { Description = "Allow a trigger that closes a cycle of types (A starts B, B starts A); chains then stop at the engine's maximum depth (10)." };
        var disabled = new Option<bool>("--disabled") { Description = "Add it switched off; `ratchet trigger enable NAME` switches it on." };
        var command = new Command("add", "Add a trigger. Its expressions are checked now (an error gives the position); a trigger that closes a cycle of types is refused unless --allow-cycle.")
        {
            name, whenType, whenId, status, condition, start, inputs, allowCycle, disabled,
        };
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var sourceType = parse.GetValue(whenType);
            var sourceId = parse.GetValue(whenId);
            if ((sourceType is null) == (sourceId is null))
            {
                throw new UsageException("Say which workflows fire the trigger with exactly one of --when-type TYPE or --when-id ID.");
            }

            var input = ParseInputs(parse.GetValue(inputs) ?? []);

            // A file is compiled before the store is opened: a bad file changes nothing.
            var target = parse.GetValue(start)!;
            var file = LooksLikeFile(target) ? WorkflowCompiler.Load(target, RunCommands.ShellDefaults(context), cancellationToken) : null;
            var trigger = new TriggerDefinition
            {
                Name = parse.GetValue(name)!,
                SourceType = sourceType,
                SourceWorkflowId = sourceId,
                OnStatus = Enum.Parse<WorkflowStatus>(parse.GetValue(status)!, ignoreCase: true),
                Condition = parse.GetValue(condition),
                TargetType = file?[0].Definition.Name ?? target,
                Input = input,
                Enabled = !parse.GetValue(disabled),
                AllowCycle = parse.GetValue(allowCycle),
            };

            await using var store = await context.OpenStoreAsync(cancellationToken);
            var recorded = await RecordedTypesAsync(store, cancellationToken);
            if (file is not null)
            {
                // Recorded first, as `run` does: a trigger that exists always has something a worker can run.
                await DefinitionCatalog.SaveAsync(store, file, cancellationToken);
            }
            else if (!recorded.Contains(target))
            {
                // Refused rather than warned: the trigger would only ever fail when it fires, far from this command.
                throw new UsageException(
                    $"No workflow of type '{target}' is recorded in this store, so no worker could run what the trigger starts. Pass its workflow file instead (--start path/to/{target}.yaml), which records it, or run it once with `ratchet run`.");
            }

            var added = await new TriggerCatalog(store).AddAsync(trigger, cancellationToken);
            if (sourceType is not null && !recorded.Contains(sourceType) && !string.Equals(sourceType, added.TargetType, StringComparison.Ordinal))
            {
                await context.Error.WriteLineAsync($"ratchet: warning: no workflow of type '{sourceType}' has run on this store yet; the trigger fires once one does (check the spelling).");
            }

            return await context.ReportAsync(
                added, $"Added trigger '{added.Name}': {Describe(added)}.{(added.Enabled ? "" : " It is disabled; enable it with `ratchet trigger enable " + added.Name + "`.")}");
        }));
        return command;
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        return new Command("list", "List the triggers: name, when, status, condition, what they start, input, enabled. --json prints them.")
            .WithStoreAction(output, error, async (context, store, _, cancellationToken) =>
            {
                var triggers = await new TriggerCatalog(store).ListAsync(cancellationToken);
                return await context.WriteListAsync(
                    triggers,
                    () => context.WriteJson(triggers),
                    "No triggers. Add one with `ratchet trigger add NAME --when-type A --start B`.",
                    ["NAME", "WHEN", "STATUS", "IF", "START", "INPUT", "ENABLED"],
                    t => [t.Name, When(t), t.OnStatus.ToString().ToLowerInvariant(), t.Condition ?? "", t.TargetType, Input(t), t.Enabled ? "yes" : "no"]);
            });
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        return new Command("show", "Show one trigger. An unknown name is exit 2.") { name }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var trigger = await new TriggerCatalog(store).GetAsync(parse.GetValue(name)!, cancellationToken);
                if (context.Json)
                {
                    context.WriteJson(trigger);
                    return ExitCodes.Ok;
                }

                await context.WriteFieldsAsync(13,
                [
                    ("name:", trigger.Name),
                    ("when:", When(trigger)),
                    ("status:", trigger.OnStatus.ToString().ToLowerInvariant()),
                    ("if:", trigger.Condition ?? "(always)"),
                    ("start:", trigger.TargetType),
                    .. trigger.Input.Select(i => ("input:", $"{i.Key} = {i.Value}")),
                    ("enabled:", trigger.Enabled ? "yes" : "no"),
                    ("allow cycle:", trigger.AllowCycle ? "yes" : "no"),
                    ("created:", StateCommands.Time(trigger.CreatedAt)),
                ]);
                return ExitCodes.Ok;
            });
    }

    private static Command Remove(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        return new Command("remove", "Remove a trigger; the workflows it started are kept. An unknown name is exit 2.") { name }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var trigger = parse.GetValue(name)!;
                await new TriggerCatalog(store).RemoveAsync(trigger, cancellationToken);
                if (context.Json)
                {
                    StateCommands.WriteJsonObject(context.Output, writer =>
                    {
                        writer.WriteString("name", trigger);
                        writer.WriteBoolean("removed", true);
                    });
                }
                else
                {
                    await context.Output.WriteLineAsync($"Removed trigger '{trigger}'.");
                }

                return ExitCodes.Ok;
            });
    }

    private static Command Enable(TextWriter output, TextWriter error, bool enabled)
    {
        var name = NameArgument();
        return new Command(enabled ? "enable" : "disable", enabled
            ? "Switch a trigger on: it fires on the next transition that matches. An unknown name is exit 2."
            : "Switch a trigger off without removing it: it fires for nothing until enabled. An unknown name is exit 2.")
        {
            name,
        }.WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
        {
            var trigger = await new TriggerCatalog(store).SetEnabledAsync(parse.GetValue(name)!, enabled, cancellationToken);
            return await context.ReportAsync(trigger, $"Trigger '{trigger.Name}' is {(enabled ? "enabled" : "disabled")}.");
        });
    }

    /// <summary>FIELD=EXPR pairs, in the order given (the started workflow's input keeps it).</summary>
    private static Dictionary<string, string> ParseInputs(IEnumerable<string> pairs)
    {
        var input = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == pair.Length - 1)
            {
                throw new UsageException($"--input '{pair}' is not FIELD=EXPR; write e.g. --input pr=output.pr or --input title=\"'Fix: ' + output.title\".");
            }

            var field = pair[..equals].Trim();
            if (!input.TryAdd(field, pair[(equals + 1)..]))
            {
                throw new UsageException($"--input names the field '{field}' twice; give each field once.");
            }
        }

        return input;
    }

    /// <summary>A workflow file rather than a type: it exists, or it is spelled like a path.</summary>
    private static bool LooksLikeFile(string target) =>
        File.Exists(target) || target.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || target.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) ||
        target.Contains('/', StringComparison.Ordinal) || target.Contains('\\', StringComparison.Ordinal);

    /// <summary>The workflow types whose definitions are recorded (keys are <c>TYPE@VERSION</c>).</summary>
    private static async Task<HashSet<string>> RecordedTypesAsync(IRatchetStore store, CancellationToken cancellationToken)
    {
        var entries = await store.ListValuesAsync(DefinitionCatalog.Namespace, cancellationToken);
        return entries.Select(e => e.Key.LastIndexOf('@') is var at and > 0 ? e.Key[..at] : e.Key).ToHashSet(StringComparer.Ordinal);
    }

    private static string When(TriggerDefinition trigger) => trigger.SourceType is { } type ? $"type {type}" : $"id {trigger.SourceWorkflowId}";

    private static string Input(TriggerDefinition trigger) => string.Join(", ", trigger.Input.Select(f => $"{f.Key}={f.Value}"));

    private static string Describe(TriggerDefinition trigger) =>
        (trigger.SourceType is { } type ? $"when a workflow of type {type}" : $"when workflow {trigger.SourceWorkflowId}") +
        $" is {trigger.OnStatus.ToString().ToLowerInvariant()}" +
        (trigger.Condition is { } condition ? $" and {condition}" : "") +
        $", start {trigger.TargetType}";
}
