using System.CommandLine;
using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;
using Spectre.Console;

namespace Ratchet.Cli;

/// <summary>What every command gets: where the store is, how to print, and the global flags.</summary>
internal sealed class CliContext
{
    public static readonly Option<string?> StoreOption = new("--store")
    {
        Description = $"The store URI (default: ${StoreLocation.EnvironmentVariable}, else {StoreLocation.DefaultUri}).",
        Recursive = true,
    };

    public static readonly Option<bool> JsonOption = new("--json")
    {
        Description = "Print data as JSON, for scripts.",
        Recursive = true,
    };

    public static readonly Option<bool> VerboseOption = new("--verbose")
    {
        Description = "Show stack traces with errors.",
        Recursive = true,
    };

    public CliContext(ParseResult parse, TextWriter output, TextWriter error)
    {
        Parse = parse;
        Location = StoreLocation.Resolve(parse.GetValue(StoreOption));
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
    }

    /// <summary>The command line as parsed, for options that several commands share (see <see cref="Observability"/>).</summary>
    public ParseResult Parse { get; }

    public StoreLocation Location { get; }

    public bool Json { get; }

    public bool Verbose { get; }

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>Whether standard output is a terminal (tables and live progress) rather than a pipe or file (plain lines).</summary>
    public bool IsTerminal { get; }

    public IAnsiConsole Console { get; }

    public Task<IRatchetStore> OpenStoreAsync(CancellationToken cancellationToken) => OpenStoreAsync(Location, cancellationToken);

    /// <summary>Opens a store, and says on standard error when its server's settings break the durability promise.</summary>
    public async Task<IRatchetStore> OpenStoreAsync(StoreLocation location, CancellationToken cancellationToken)
    {
        var store = await location.OpenAsync(TimeSpan.FromSeconds(5), cancellationToken);
        if (store is Ratchet.Redis.RedisRatchetStore { PersistenceWarning: { } warning })
        {
            await Error.WriteLineAsync($"ratchet: warning: {warning}");
        }

        return store;
    }

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
