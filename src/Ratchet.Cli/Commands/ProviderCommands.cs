using System.CommandLine;
using System.Globalization;
using System.Text;
using Ratchet.Agents;

namespace Ratchet.Cli.Commands;

/// <summary>
/// <c>provider add|list|show|update|remove</c>: LLM provider credentials. API keys are read from an environment
/// variable or standard input (never printed), encrypted under the master key, and shown only by <c>show --reveal</c>.
/// </summary>
internal static class ProviderCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return new Command("provider", "LLM provider credentials: name, API key (encrypted at rest, never printed), base URL, active.")
        {
            Add(output, error),
            List(output, error),
            Show(output, error),
            Update(output, error),
            Remove(output, error),
        };
    }

    /// <summary>The ways to give an API key; at most one may be used.</summary>
    private sealed record KeyOptions(Option<string?> FromEnvironment, Option<bool> FromStdin, Option<string?> Plain, Option<bool> None)
    {
        public static KeyOptions Create(string noneDescription) => new(
            new Option<string?>("--api-key-env") { Description = "Read the API key from this environment variable (e.g. OPENAI_API_KEY)." },
            new Option<bool>("--api-key-stdin") { Description = "Read the API key from standard input (one line; surrounding whitespace is removed)." },
            new Option<string?>("--api-key") { Description = "The API key itself. Discouraged: other users can see it in the process list and it stays in shell history." },
            new Option<bool>("--no-api-key") { Description = noneDescription });

        public IEnumerable<Option> All => [FromEnvironment, FromStdin, Plain, None];

        /// <summary>The key given (null: none of the options), and whether --no-api-key was given.</summary>
        public async Task<(string? Key, bool Remove)> ReadAsync(ParseResult parse, CliContext context, CancellationToken cancellationToken)
        {
            var variable = parse.GetValue(FromEnvironment);
            var stdin = parse.GetValue(FromStdin);
            var plain = parse.GetValue(Plain);
            var none = parse.GetValue(None);
            if ((variable is not null ? 1 : 0) + (stdin ? 1 : 0) + (plain is not null ? 1 : 0) + (none ? 1 : 0) > 1)
            {
                throw new UsageException("Give the API key one way only: --api-key-env VAR, --api-key-stdin, --api-key KEY or --no-api-key.");
            }

            if (variable is not null)
            {
                var value = Environment.GetEnvironmentVariable(variable);
                return string.IsNullOrEmpty(value)
                    ? throw new UsageException($"--api-key-env names the environment variable '{variable}', which is not set or empty. Export it first, or use --api-key-stdin.")
                    : (value.Trim(), false);
            }

            if (stdin)
            {
                using var reader = new StreamReader(Console.OpenStandardInput(), Encoding.UTF8);
                var value = (await reader.ReadToEndAsync(cancellationToken)).Trim();
                return value.Length == 0 ? throw new UsageException("--api-key-stdin read nothing from standard input; pipe the key in.") : (value, false);
            }

            if (plain is not null)
            {
                await context.Error.WriteLineAsync("ratchet: warning: an API key given with --api-key can be seen by other users in the process list and stays in shell history; prefer --api-key-env or --api-key-stdin.");
                return (plain, false);
            }

            return (null, none);
        }
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The provider's name: a slug (lowercase letters, digits, hyphens), e.g. openai." };

    private static Command Add(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        var keys = KeyOptions.Create("The provider needs no API key (a local model server).");
        var baseUrl = new Option<string?>("--base-url") { Description = "The API's base URL (http or https), e.g. https://api.openai.com/v1." };
        var inactive = new Option<bool>("--inactive") { Description = "Add it inactive: agents that use it refuse to run until it is activated." };
        var command = new Command("add", "Add a provider. The API key is encrypted under the master key before it is stored.") { name, baseUrl, inactive };
        foreach (var option in keys.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            var (key, none) = await keys.ReadAsync(parse, context, cancellationToken);
            if (key is null && !none)
            {
                throw new UsageException("Give the API key with --api-key-env VAR or --api-key-stdin (or --no-api-key for a provider that needs none).");
            }

            await using var store = await context.OpenStoreAsync(cancellationToken);
            var directory = new AgentDirectory(store);
            var provider = await directory.AddProviderAsync(new NewProvider
            {
                Name = parse.GetValue(name)!,
                ApiKey = key,
                BaseUrl = parse.GetValue(baseUrl),
                IsActive = !parse.GetValue(inactive),
            }, cancellationToken);
            return await context.ReportAsync(ProviderView.Of(provider, agents: 0), $"Added provider '{provider.Name}' ({Describe(provider)}).");
        }));
        return command;
    }

    private static Command List(TextWriter output, TextWriter error)
    {
        return new Command("list", "List providers: name, active, base URL, whether an API key is stored (never the key), the agents that use it.")
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var directory = new AgentDirectory(store);
                var providers = await directory.ListProvidersAsync(cancellationToken);
                var agents = await directory.ListAgentsAsync(cancellationToken);
                var views = providers.Select(p => ProviderView.Of(p, agents.Count(a => a.Provider == p.Name))).ToArray();
                return await context.WriteListAsync(
                    views,
                    () => context.WriteJson(views),
                    emptyHint: null,
                    ["NAME", "ACTIVE", "API KEY", "BASE URL", "AGENTS", "UPDATED"],
                    v => [
                        v.Name, v.Active ? "yes" : "no", v.ApiKey, v.BaseUrl ?? "-", v.Agents.ToString(CultureInfo.InvariantCulture),
                        v.UpdatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)]);
            });
    }

    private static Command Show(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        var reveal = new Option<bool>("--reveal") { Description = "Print the API key in clear (alone on a line, for scripts; with --json as \"apiKeyValue\"). Needs the master key it was encrypted under." };
        return new Command("show", "Show a provider. The API key is shown only as set/none unless --reveal.") { name, reveal }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var directory = new AgentDirectory(store);
                var providerName = parse.GetValue(name)!;
                var provider = await directory.GetRequiredProviderAsync(providerName, cancellationToken);
                var agents = (await directory.ListAgentsAsync(cancellationToken)).Where(a => a.Provider == provider.Name).Select(a => a.Name).ToArray();
                if (parse.GetValue(reveal))
                {
                    var key = await directory.RevealApiKeyAsync(providerName, cancellationToken)
                        ?? throw new UsageException($"Provider '{providerName}' has no API key to reveal.");
                    return await context.ReportAsync(ProviderView.Of(provider, agents.Length) with { AgentNames = agents, ApiKeyValue = key }, key);
                }

                if (context.Json)
                {
                    context.WriteJson(ProviderView.Of(provider, agents.Length) with { AgentNames = agents });
                    return ExitCodes.Ok;
                }

                await context.WriteFieldsAsync(12,
                [
                    ("Provider:", provider.Name),
                    ("Active:", provider.IsActive ? "yes" : "no"),
                    ("Base URL:", provider.BaseUrl ?? "(default)"),
                    ("API key:", ProviderView.KeyState(provider)),
                    ("Agents:", agents.Length == 0 ? "(none)" : string.Join(", ", agents)),
                    ("Created:", $"{provider.CreatedAt:yyyy-MM-dd HH:mm:ss}Z"),
                    ("Updated:", $"{provider.UpdatedAt:yyyy-MM-dd HH:mm:ss}Z"),
                ]);
                return ExitCodes.Ok;
            });
    }

    private static Command Update(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        var keys = KeyOptions.Create("Delete the stored API key.");
        var baseUrl = new Option<string?>("--base-url") { Description = "A new base URL (http or https)." };
        var noBaseUrl = new Option<bool>("--no-base-url") { Description = "Remove the base URL (use the client's default)." };
        var active = new Option<bool>("--active") { Description = "Activate it." };
        var inactive = new Option<bool>("--inactive") { Description = "Deactivate it: agents that use it refuse to run; its key is kept." };
        var command = new Command("update", "Change a provider: a new API key (encrypted under the current master key), base URL, active or not.") { name, baseUrl, noBaseUrl, active, inactive };
        foreach (var option in keys.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            if (parse.GetValue(active) && parse.GetValue(inactive))
            {
                throw new UsageException("--active and --inactive contradict each other; give one.");
            }

            if (parse.GetValue(baseUrl) is not null && parse.GetValue(noBaseUrl))
            {
                throw new UsageException("--base-url and --no-base-url contradict each other; give one.");
            }

            var (key, removeKey) = await keys.ReadAsync(parse, context, cancellationToken);
            var changes = new ProviderChanges
            {
                ApiKey = key,
                RemoveApiKey = removeKey,
                BaseUrl = parse.GetValue(noBaseUrl) ? "" : parse.GetValue(baseUrl),
                IsActive = parse.GetValue(active) ? true : parse.GetValue(inactive) ? false : null,
            };
            if (changes is { ApiKey: null, RemoveApiKey: false, BaseUrl: null, IsActive: null })
            {
                throw new UsageException("Nothing to change: give --api-key-env, --api-key-stdin, --no-api-key, --base-url, --no-base-url, --active or --inactive.");
            }

            await using var store = await context.OpenStoreAsync(cancellationToken);
            var directory = new AgentDirectory(store);
            var provider = await directory.UpdateProviderAsync(parse.GetValue(name)!, changes, cancellationToken);
            if (context.Json)
            {
                context.WriteJson(ProviderView.Of(provider, (await directory.ListAgentsAsync(cancellationToken)).Count(a => a.Provider == provider.Name)));
            }
            else
            {
                await context.Output.WriteLineAsync($"Updated provider '{provider.Name}' ({Describe(provider)}).");
            }

            return ExitCodes.Ok;
        }));
        return command;
    }

    private static Command Remove(TextWriter output, TextWriter error)
    {
        var name = NameArgument();
        var cascade = new Option<bool>("--cascade") { Description = "Also remove the agent profiles that use it, in the same commit." };
        return new Command("remove", "Remove a provider and its stored key. Refused (exit 2) while agent profiles use it, unless --cascade.") { name, cascade }
            .WithStoreAction(output, error, async (context, store, parse, cancellationToken) =>
            {
                var providerName = parse.GetValue(name)!;
                var removed = await new AgentDirectory(store).RemoveProviderAsync(providerName, new ProviderRemoval { Cascade = parse.GetValue(cascade) }, cancellationToken);
                return await context.ReportAsync(new { provider = providerName, removedAgents = removed }, removed.Count == 0
                    ? $"Removed provider '{providerName}'."
                    : $"Removed provider '{providerName}' and the agent profiles that used it: {string.Join(", ", removed)}.");
            });
    }

    private static string Describe(ProviderRecord provider) =>
        $"{(provider.IsActive ? "active" : "inactive")}, API key {ProviderView.KeyState(provider)}" +
        (provider.BaseUrl is null ? "" : $", base URL {provider.BaseUrl}");

    /// <summary>What commands print about a provider: never the key's ciphertext, and its clear text only when revealed.</summary>
    private sealed record ProviderView
    {
        public required string Name { get; init; }

        public required bool Active { get; init; }

        public string? BaseUrl { get; init; }

        /// <summary><c>none</c>, or <c>encrypted (master key ID)</c>.</summary>
        public required string ApiKey { get; init; }

        public string? MasterKeyId { get; init; }

        public int Agents { get; init; }

        public IReadOnlyList<string>? AgentNames { get; init; }

        public DateTimeOffset CreatedAt { get; init; }

        public DateTimeOffset UpdatedAt { get; init; }

        public string? ApiKeyValue { get; init; }

        public static ProviderView Of(ProviderRecord provider, int agents) => new()
        {
            Name = provider.Name,
            Active = provider.IsActive,
            BaseUrl = provider.BaseUrl,
            ApiKey = KeyState(provider),
            MasterKeyId = provider.ApiKeyMasterKeyId,
            Agents = agents,
            CreatedAt = provider.CreatedAt,
            UpdatedAt = provider.UpdatedAt,
        };

        public static string KeyState(ProviderRecord provider) =>
            provider.HasApiKey ? $"encrypted (master key {provider.ApiKeyMasterKeyId})" : "none";
    }
}
