using System.CommandLine;
using Ratchet.GitHub;
using Ratchet.Hosting;

namespace Ratchet.Cli;

/// <summary>
/// What a command that runs workflows (<c>run</c>, <c>resume</c>, <c>worker</c>) can report beyond its own output:
/// trace files, OpenTelemetry export, GitHub progress comments. Each is switched on by an option or its environment
/// variable, and added to the engine through the same public builder a library user has.
/// </summary>
internal sealed class Observability : IAsyncDisposable
{
    public const string TracesVariable = "RATCHET_TRACES";
    public const string TokenVariable = "GITHUB_TOKEN";
    public const string GitHubApiVariable = "GITHUB_API_URL";

    public static readonly Option<string?> TracesOption = new("--traces")
    {
        Description = $"Also append each workflow's audit events to DIR/ID.jsonl as they happen (default: ${TracesVariable}).",
        HelpName = "DIR",
    };

    public static readonly Option<string?> OtlpEndpointOption = new("--otlp-endpoint")
    {
        Description = $"Export spans and metrics over OTLP (HTTP/protobuf) to this URL (default: ${OtlpTelemetry.EndpointVariable}).",
        HelpName = "URL",
    };

    public static readonly Option<string?> GitHubApiUrlOption = new("--github-api-url")
    {
        Description = $"The GitHub REST API root for progress comments, for GitHub Enterprise (default: ${GitHubApiVariable}, else https://api.github.com).",
        HelpName = "URL",
    };

    public static readonly Option<bool> NoGitHubOption = new("--no-github")
    {
        Description = $"Do not post progress comments on the issue or pull request a workflow serves, even with ${TokenVariable} set.",
    };

    private readonly OtlpTelemetry? _telemetry;

    private Observability(OtlpTelemetry? telemetry)
    {
        _telemetry = telemetry;
    }

    /// <summary>Adds the observability options to a command that runs workflows.</summary>
    public static Command AddOptions(Command command)
    {
        command.Options.Add(TracesOption);
        command.Options.Add(OtlpEndpointOption);
        command.Options.Add(GitHubApiUrlOption);
        command.Options.Add(NoGitHubOption);
        return command;
    }

    /// <summary>
    /// Switches on what the command's options and the environment ask for, in the host's options (trace files, the
    /// GitHub observer, which the host disposes after the engine). Telemetry starts here, before the engine is built,
    /// so the span of a workflow's start is recorded and its <c>traceparent</c> stored with it.
    /// </summary>
    public static Observability Attach(CliContext context, RatchetHostOptions options)
    {
        var parse = context.Parse;
        if (!parse.CommandResult.Command.Options.Contains(TracesOption))
        {
            return new Observability(null);
        }

        options.TracesDirectory = Setting(parse.GetValue(TracesOption), TracesVariable);
        if (!parse.GetValue(NoGitHubOption) && Setting(null, TokenVariable) is { } token)
        {
            var api = Setting(parse.GetValue(GitHubApiUrlOption), GitHubApiVariable);
            if (api is not null && !Uri.TryCreate(api, UriKind.Absolute, out _))
            {
                throw new UsageException($"The GitHub API URL '{api}' is not an absolute URL; give one like https://github.example.com/api/v3.");
            }

            var github = new GitHubProgressOptions
            {
                Token = token,
                BaseUrl = api is null ? GitHubProgressOptions.DefaultBaseUrl : new Uri(api),
            };
            options.Observers.Add(store => new GitHubProgressObserver(store, github, loggerFactory: context.LoggerFactory));
        }

        return new Observability(OtlpTelemetry.Start(Setting(parse.GetValue(OtlpEndpointOption), OtlpTelemetry.EndpointVariable)));
    }

    /// <summary>Called after the host is disposed (its observers have sent what they had): flushes spans and metrics.</summary>
    public ValueTask DisposeAsync()
    {
        _telemetry?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static string? Setting(string? option, string variable) =>
        option is { Length: > 0 } ? option : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
}
