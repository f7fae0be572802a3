using System.CommandLine;
using System.Globalization;
using Ratchet.Agents;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>agent add|list|show|update|remove</c>: agent profiles (provider, model, kind, system prompt, tools, parameters).
/// A workflow node with <c>agent: NAME</c> runs its command with the profile in <c>RATCHET_AGENT_*</c> variables.
/// </summary>
internal static class AgentCommands
{
    private static readonly string[] Kinds = ["planner", "generalist", "specialist", "executor"];

    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return new Command("agent", "Agent profiles: provider, model, kind, system prompt, tools, temperature, max tokens.")
        {
            Add(output, error),
            List(output, error),
            Show(output, error),
            Update(output, error),
            Remove(output, error),
        };
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The agent's name: a slug (lowercase letters, digits, hyphens), e.g. reviewer." };

    /// <summary>The settings options shared by add and update.</summary>
    private sealed record SettingOptions
    {
        public Option<string?> Provider { get; } = new("--provider") { Description = "The provider's name (see `ratchet provider list`)." };

        public Option<string?> Model { get; } = new("--model") { Description = "The model id as the provider names it, e.g. gpt-4o." };

        public Option<string?> Kind { get; } = KindOption();

        public Option<string?> SystemPrompt { get; } = new("--system-prompt") { Description = "The system prompt." };

        public Option<string?> SystemPromptFile { get; } = new("--system-prompt-file") { Description = "Read the system prompt from this file." };

        public Option<string[]> Tools { get; } = new("--tool") { Description = "A tool the agent may use (letters, digits, . _ : / -); repeat for more. On update, replaces the list.", AllowMultipleArgumentsPerToken = false };

        public Option<double?> Temperature { get; } = new("--temperature") { Description = "Sampling temperature, 0 to 2." };

        public Option<int?> MaxTokens { get; } = new("--max-tokens") { Description = "The most tokens a response may have." };

        public Option<string?> Avatar { get; } = new("--avatar") { Description = "An avatar for user interfaces: an emoji, a short text or an image URL." };

        public IEnumerable<Option> All => [Provider, Model, Kind, SystemPrompt, SystemPromptFile, Tools, Temperature, MaxTokens, Avatar];

        public async Task<string?> ReadSystemPromptAsync(ParseResult parse, CancellationToken cancellationToken)
        {
            var text = parse.GetValue(SystemPrompt);
            var file = parse.GetValue(SystemPromptFile);
            if (text is not null && file is not null)
            {
                throw new UsageException("Give the system prompt one way: --system-prompt TEXT or --system-prompt-file FILE.");
            }

            return file is null ? text : await File.ReadAllTextAsync(file, cancellationToken);
        }

        public static AgentKind? ParseKind(string? kind) =>
            kind is null ? null : Enum.Parse<AgentKind>(kind, ignoreCase: true);

        private static Option<string?> KindOption()
        {
            var option = new Option<string?>("--kind") { Description = "The agent's role: planner, generalist (default), specialist or executor." };
            option.AcceptOnlyFromAmong(Kinds);
            return option;
        }
    }

    private static Command Add(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        var settings = new SettingOptions();
        var command = new Command("add", "Add an agent profile; its provider must exist.") { name };
        foreach (var option in settings.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var provider = parse.GetValue(settings.Provider) ?? throw new UsageException("An agent needs a provider: give --provider NAME (see `ratchet provider list`).");
            var model = parse.GetValue(settings.Model) ?? throw new UsageException("An agent needs a model: give --model ID (e.g. gpt-4o).");
            var profile = new AgentProfile
            {
                Name = parse.GetValue(name)!,
                Provider = provider,
                Model = model,
                Kind = SettingOptions.ParseKind(parse.GetValue(settings.Kind)) ?? AgentKind.Generalist,
                SystemPrompt = await settings.ReadSystemPromptAsync(parse, cancellationToken),
                Tools = parse.GetValue(settings.Tools) ?? [],
                Temperature = parse.GetValue(settings.Temperature),
                MaxTokens = parse.GetValue(settings.MaxTokens),
                Avatar = parse.GetValue(settings.Avatar),
            };
            await using var store = await context.OpenStoreAsync(cancellationToken);
            var added = await new AgentDirectory(store).AddAgentAsync(profile, cancellationToken);
            return await context.ReportAsync(AgentView.Of(added), $"Added agent '{added.Name}' ({Describe(added)}).");
        }));
        return command;
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        return new Command("list", "List agent profiles: name, kind, provider, model, tools, parameters.")
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var agents = await new AgentDirectory(store).ListAgentsAsync(cancellationToken);
                return await context.WriteListAsync(
                    agents,
                    () => context.WriteJson(agents.Select(AgentView.Of).ToArray()),
                    emptyHint: null,
                    ["NAME", "KIND", "PROVIDER", "MODEL", "TOOLS", "TEMPERATURE", "MAX TOKENS"],
                    a => [
                        a.Name, Kind(a.Kind), a.Provider, a.Model, a.Tools.Count == 0 ? "-" : string.Join(",", a.Tools),
                        a.Temperature?.ToString(CultureInfo.InvariantCulture) ?? "-", a.MaxTokens?.ToString(CultureInfo.InvariantCulture) ?? "-"]);
            });
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        return new Command("show", "Show an agent profile, system prompt included.") { name }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var agent = await new AgentDirectory(store).GetRequiredAgentAsync(parse.GetValue(name)!, cancellationToken);
                if (context.Json)
                {
                    context.WriteJson(AgentView.Of(agent));
                    return ExitCodes.Ok;
                }

                await context.WriteFieldsAsync(14,
                [
                    ("Agent:", agent.Name),
                    ("Kind:", Kind(agent.Kind)),
                    ("Avatar:", agent.Avatar ?? "-"),
                    ("Provider:", agent.Provider),
                    ("Model:", agent.Model),
                    ("Tools:", agent.Tools.Count == 0 ? "-" : string.Join(", ", agent.Tools)),
                    ("Temperature:", agent.Temperature?.ToString(CultureInfo.InvariantCulture) ?? "(provider default)"),
                    ("Max tokens:", agent.MaxTokens?.ToString(CultureInfo.InvariantCulture) ?? "(provider default)"),
                    ("Updated:", $"{agent.UpdatedAt:yyyy-MM-dd HH:mm:ss}Z"),
                ]);
                await context.Output.WriteLineAsync("System prompt:");
                await context.Output.WriteLineAsync(agent.SystemPrompt ?? "(none)");
                return ExitCodes.Ok;
            });
    }

    private static Command Update(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        var settings = new SettingOptions();
        var noSystemPrompt = new Option<bool>("--no-system-prompt") { Description = "Remove the system prompt." };
        var noTools = new Option<bool>("--no-tools") { Description = "Remove every tool." };
        var noTemperature = new Option<bool>("--no-temperature") { Description = "Use the provider's default temperature." };
        var noMaxTokens = new Option<bool>("--no-max-tokens") { Description = "Use the provider's default max tokens." };
        var noAvatar = new Option<bool>("--no-avatar") { Description = "Remove the avatar." };
        var command = new Command("update", "Change an agent profile; options not given keep their values.") { name, noSystemPrompt, noTools, noTemperature, noMaxTokens, noAvatar };
        foreach (var option in settings.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var prompt = await settings.ReadSystemPromptAsync(parse, cancellationToken);
            var tools = parse.GetValue(settings.Tools);
            var kind = SettingOptions.ParseKind(parse.GetValue(settings.Kind));
            if (prompt is not null && parse.GetValue(noSystemPrompt) || tools is { Length: > 0 } && parse.GetValue(noTools))
            {
                throw new UsageException("A setting and its --no- option contradict each other; give one.");
            }

            await using var store = await context.OpenStoreAsync(cancellationToken);
            var updated = await new AgentDirectory(store).UpdateAgentAsync(parse.GetValue(name)!, current => current with
            {
                Provider = parse.GetValue(settings.Provider) ?? current.Provider,
                Model = parse.GetValue(settings.Model) ?? current.Model,
                Kind = kind ?? current.Kind,
                SystemPrompt = parse.GetValue(noSystemPrompt) ? null : prompt ?? current.SystemPrompt,
                Tools = parse.GetValue(noTools) ? [] : tools is { Length: > 0 } ? tools : current.Tools,
                Temperature = parse.GetValue(noTemperature) ? null : parse.GetValue(settings.Temperature) ?? current.Temperature,
                MaxTokens = parse.GetValue(noMaxTokens) ? null : parse.GetValue(settings.MaxTokens) ?? current.MaxTokens,
                Avatar = parse.GetValue(noAvatar) ? null : parse.GetValue(settings.Avatar) ?? current.Avatar,
            }, cancellationToken);
            return await context.ReportAsync(AgentView.Of(updated), $"Updated agent '{updated.Name}' ({Describe(updated)}).");
        }));
        return command;
    }

    private static Command Remove(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        return new Command("remove", "Remove an agent profile. An unknown name is exit 2.") { name }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var agentName = parse.GetValue(name)!;
                if (!await new AgentDirectory(store).RemoveAgentAsync(agentName, cancellationToken))
                {
                    throw new AgentNotFoundException(agentName);
                }

                await context.Output.WriteLineAsync($"Removed agent '{agentName}'.");
                return ExitCodes.Ok;
            });
    }

    private static string Kind(AgentKind kind) => kind.ToString().ToLowerInvariant();

    private static string Describe(AgentProfile agent) => $"{Kind(agent.Kind)}, {agent.Model} on {agent.Provider}";

    /// <summary>A profile as commands print it: the kind in lowercase, as it is typed.</summary>
    private sealed record AgentView(
        string Name, string Kind, string? Avatar, string Provider, string Model, string? SystemPrompt, IReadOnlyList<string> Tools,
        double? Temperature, int? MaxTokens, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public static AgentView Of(AgentProfile a) =>
            new(a.Name, AgentCommands.Kind(a.Kind), a.Avatar, a.Provider, a.Model, a.SystemPrompt, a.Tools, a.Temperature, a.MaxTokens, a.CreatedAt, a.UpdatedAt);
    }
}
