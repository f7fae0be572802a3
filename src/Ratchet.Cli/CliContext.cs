using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Ratchet.Hosting;
using Ratchet.Serialization;
using Ratchet.Storage;
using Spectre.Console;

namespace Ratchet.Cli;

/// <summary>What every command gets: where the store is, how to print, where to log, and the global flags.</summary>
internal sealed class CliContext : IDisposable
{
    private readonly Lock _errorGate = new();

    public static readonly Option<string?> StoreOption = new("--store")
    {
        Description = $"The store URI (default: ${StoreProviders.EnvironmentVariable}, else {StoreProviders.DefaultUri}).",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print data as JSON, for scripts.",
        Recursive = true,
    };

    public static readonly Option<bool> VerboseOption = new("--verbose")
    {
        Description = "Show stack traces with errors, and informational log lines.",
        Recursive = true,
    };

    public CliContext(ParseResult parse, TextWriter output, TextWriter error)
    {
        Parse = parse;
        Store = StoreProviders.Resolve(parse.GetValue(StoreOption));
        Json = parse.GetValue(JsonOption);
        Verbose = parse.GetValue(VerboseOption);
        Output = output;
        Error = error;
        IsTerminal = !System.Console.IsOutputRedirected && output == System.Console.Out;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = IsTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = IsTerminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        LoggerFactory = CliLogging.Create(this);
    }

    /// <summary>The command line as parsed, for options that several commands share (see <see cref="Observability"/>).</summary>
    public ParseResult Parse { get; }

    /// <summary>The store URI: <c>--store</c>, else <c>$RATCHET_STORE</c>, else the default (it may hold a password: print <see cref="StoreUri.Redact"/> of it).</summary>
    public string Store { get; }

    /// <summary>Where run logs and workspaces live, beside the store.</summary>
    public RatchetFolders Folders => RatchetFolders.For(Store, StoreProviders.Default);

    public bool Json { get; }

    public bool Verbose { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>Whether standard output is a terminal (tables and live progress) rather than a pipe or file (plain lines).</summary>
    public bool IsTerminal { get; }

    public IAnsiConsole Console { get; }

    /// <summary>What is running now, for the live status line on a terminal (see <see cref="EngineHost"/>).</summary>
    public LiveProgress Live { get; } = new();

    /// <summary>Where the store, the engine and the observers log: one line per warning or error on standard error (see <see cref="CliLogging"/>).</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>How long a command waits for a store another process holds locked (SQLite's busy timeout, the files store's lock).</summary>
    public static TimeSpan LockTimeout { get; } = TimeSpan.FromSeconds(5);

    public Task<IRatchetStore> OpenStoreAsync(CancellationToken cancellationToken) => OpenStoreAsync(Store, cancellationToken);

    /// <summary>
    /// Opens a store with the command's loggers, so that what it warns about (a Redis server whose settings break the
    /// durability promise, a damaged file restored from its last good copy) is said on standard error.
    /// </summary>
    public Task<IRatchetStore> OpenStoreAsync(string uri, CancellationToken cancellationToken) =>
        StoreProviders.Default.Parse(uri).OpenAsync(new StoreOpenSettings { LockTimeout = LockTimeout, LoggerFactory = LoggerFactory }, cancellationToken);

    /// <summary>The host settings of every command that builds a <see cref="RatchetHost"/>: this store, these loggers.</summary>
    public RatchetHostOptions HostOptions() => new()
    {
        Store = Store,
        LoggerFactory = LoggerFactory,
        LockTimeout = LockTimeout,
    };

    /// <summary>
    /// A line for standard error (progress, warnings). While the live status line is shown, the line goes through the
    /// console that draws it, so that it scrolls above the status instead of tearing through it. Lines come from
    /// several threads (the observer loop, runners, the store): one at a time.
    /// </summary>
    public void WriteErrorLine(string line)
    {
        lock (_errorGate)
        {
            if (Live.IsShown)
            {
                Console.MarkupLine(Markup.Escape(line));
            }
            else
            {
                Error.WriteLine(line);
            }
        }
    }

    public void Dispose() => LoggerFactory.Dispose();

    /// <summary>Ratchet's JSON conventions, indented, for Ratchet's records and for any other value a command prints.</summary>
    private static readonly JsonSerializerOptions PrintOptions = new(RatchetJsonContext.Default.Options)
    {
        WriteIndented = true,
        TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(
            RatchetJsonContext.Default, new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver()),
    };

    public void WriteJson<T>(T value) => Output.WriteLine(JsonSerializer.Serialize(value, PrintOptions));

    public void WriteJsonValue(JsonElement value) =>
        Output.WriteLine(JsonSerializer.Serialize(value, RatchetJsonContext.Indented.JsonElement));

    /// <summary>
    /// What a command that changed or read one thing prints: <paramref name="json"/> with <c>--json</c>, else the line
    /// <paramref name="text"/>; the exit code is <see cref="ExitCodes.Ok"/>.
    /// </summary>
    public async Task<int> ReportAsync<T>(T json, string text)
    {
        if (Json)
        {
            WriteJson(json);
        }
        else
        {
            await Output.WriteLineAsync(text);
        }

        return ExitCodes.Ok;
    }

    /// <summary>
    /// What a list command prints: the JSON <paramref name="writeJson"/> writes with <c>--json</c>; on a terminal,
    /// <paramref name="emptyHint"/> (if any) when there is nothing to list; else a table of <paramref name="items"/>.
    /// </summary>
    public async Task<int> WriteListAsync<T>(
        IReadOnlyCollection<T> items, Action writeJson, string? emptyHint, IReadOnlyList<string> headers, Func<T, IReadOnlyList<string>> row)
    {
        if (Json)
        {
            writeJson();
        }
        else if (items.Count == 0 && IsTerminal && emptyHint is not null)
        {
            await Output.WriteLineAsync(emptyHint);
        }
        else
        {
            WriteTable(headers, items.Select(row));
        }

        return ExitCodes.Ok;
    }

    /// <summary>A show command's labelled lines, each label padded to <paramref name="width"/> characters.</summary>
    public async Task WriteFieldsAsync(int width, IEnumerable<(string Label, string Value)> fields)
    {
        foreach (var (label, value) in fields)
        {
            await Output.WriteLineAsync(label.PadRight(width) + value);
        }
    }

    /// <summary>A table on a terminal; tab-separated lines with a header otherwise.</summary>
    public void WriteTable(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (IsTerminal)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var header in headers)
            {
                table.AddColumn(new TableColumn(Markup.Escape(header)));
            }

            foreach (var row in rows)
            {
                table.AddRow(row.Select(cell => (Spectre.Console.Rendering.IRenderable)new Text(cell)).ToArray());
            }

            Console.Write(table);
            return;
        }

        Output.WriteLine(string.Join('\t', headers));
        foreach (var row in rows)
        {
            Output.WriteLine(string.Join('\t', row));
        }
    }
}
