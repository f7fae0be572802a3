using System.CommandLine;
using Ratchet.Engine;
using Ratchet.GitHub;
using Ratchet.Storage;

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
    private readonly GitHubProgressObserver? _github;

    private Observability(OtlpTelemetry? telemetry, GitHubProgressObserver? github)
    {
        _telemetry = telemetry;
        _github = github;
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
    /// Switches on what the command's options and the environment ask for. Telemetry starts here, before the engine is
    /// built, so the span of a workflow's start is recorded and its <c>traceparent</c> stored with it.
    /// </summary>
    public static Observability Attach(CliContext context, IRatchetStore store, RatchetBuilder builder)
    {
        var parse = context.Parse;
        if (!parse.CommandResult.Command.Options.Contains(TracesOption))
        {
            return new Observability(null, null);
        }

        if (Setting(parse.GetValue(TracesOption), TracesVariable) is { } traces)
        {
            builder.AddObserver(new TraceFileObserver(store, traces));
        }

        var telemetry = OtlpTelemetry.Start(Setting(parse.GetValue(OtlpEndpointOption), OtlpTelemetry.EndpointVariable));

        GitHubProgressObserver? github = null;
        if (!parse.GetValue(NoGitHubOption) && Setting(null, TokenVariable) is { } token)
        {
            var api = Setting(parse.GetValue(GitHubApiUrlOption), GitHubApiVariable);
            if (api is not null && !Uri.TryCreate(api, UriKind.Absolute, out _))
            {
                telemetry?.Dispose();
                throw new UsageException($"The GitHub API URL '{api}' is not an absolute URL; give one like https://github.example.com/api/v3.");
            }

            github = new GitHubProgressObserver(store, new GitHubProgressOptions
            {
                Token = token,
                BaseUrl = api is null ? GitHubProgressOptions.DefaultBaseUrl : new Uri(api),
            }, loggerFactory: context.LoggerFactory);
            builder.AddObserver(github);
        }

        return new Observability(telemetry, github);
    }

    /// <summary>Called after the engine is disposed: sends pending comments, then flushes spans and metrics.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_github is not null)
        {
            await _github.DisposeAsync();
        }

        _telemetry?.Dispose();
    }

    private static string? Setting(string? option, string variable) =>
        option is { Length: > 0 } ? option : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value ? value : null;
}
