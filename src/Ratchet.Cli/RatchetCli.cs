using System.CommandLine;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using Ratchet.Cli.Commands;
using Ratchet.Engine;
using Ratchet.Expressions;
using Ratchet.Serialization;
using Ratchet.State;
using Ratchet.Storage;
using Ratchet.Triggers;
using Ratchet.Yaml;

namespace Ratchet.Cli;

/// <summary>The <c>ratchet</c> command line: parsing, dispatch, and the mapping of errors to one line and an exit code.</summary>
internal static class RatchetCli
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args is ["--version"])
        {
            await output.WriteLineAsync($"ratchet {Version}");
            return ExitCodes.Ok;
        }

        var root = new RootCommand("Ratchet: durable workflows of shell commands. Every finished step is committed; a crash costs at most the step that was running.")
        {
            CliContext.StoreOption,
            CliContext.JsonOption,
            CliContext.VerboseOption,
        };
        foreach (var command in RunCommands.Create(output, error)
            .Concat(ControlCommands.Create(output, error))
            .Concat(InspectCommands.Create(output, error))
            .Concat(StateCommands.Create(output, error))
            .Concat(KeyValueCommands.Create(output, error))
            .Concat(MigrateCommands.Create(output, error))
            .Concat(PhaseCommand.Create(output, error))
            .Concat(ProviderCommands.Create(output, error))
            .Concat(AgentCommands.Create(output, error))
            .Concat(KeyCommands.Create(output, error))
            .Concat(TriggerCommands.Create(output, error))
            .Concat(QueueCommands.Create(output, error)))
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // "Required command was not provided" only repeats what an unrecognized command already says.
            var errors = parse.Errors.Count > 1 ? parse.Errors.Where(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) : parse.Errors;
            foreach (var problem in errors)
            {
                await error.WriteLineAsync($"ratchet: error[usage]: {OneLine(problem.Message)} Run `ratchet --help` for the commands and options.");
            }

            return ExitCodes.BadInput;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,

            // Termination is handled below: the first Ctrl-C stops gracefully, a second one at once.
            ProcessTerminationTimeout = null,
        };
        using var termination = new TerminationHandler(error);
        return await parse.InvokeAsync(configuration, termination.Token);
    }

    /// <summary>
    /// The first SIGINT (Ctrl-C) or SIGTERM cancels the command's token: a run stops its node (SIGTERM to the node's
    /// process group, SIGKILL after the grace period), records the interruption and says how to resume. A second one
    /// exits at once (130), killing the commands this process started first, so none is left running unrecorded.
    /// </summary>
    private sealed class TerminationHandler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly PosixSignalRegistration[] _registrations;
        private readonly TextWriter _error;
        private int _signals;

        public TerminationHandler(TextWriter error)
        {
            _error = error;
            _registrations = OperatingSystem.IsWindows()
                ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle)]
                : [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
        }

        public CancellationToken Token => _stop.Token;

        public void Dispose()
        {
            foreach (var registration in _registrations)
            {
                registration.Dispose();
            }

            _stop.Dispose();
        }

        private void Handle(PosixSignalContext context)
        {
            context.Cancel = true;
            if (Interlocked.Increment(ref _signals) == 1)
            {
                _error.WriteLine("ratchet: stopping (press Ctrl-C again to exit at once)...");
                _ = Task.Run(_stop.Cancel);
                return;
            }

            ProcessGroup.KillAllStartedHere();
            _error.WriteLine("ratchet: exiting at once; workflows left running are taken over by the next `ratchet resume` or worker.");
            _error.Flush();
            Environment.Exit(ExitCodes.Interrupted);
        }
    }

    /// <summary>
    /// <paramref name="command"/> with an <see cref="Action"/> that opens the store, runs <paramref name="body"/> on it
    /// and closes it: the shape of the commands that only read or change what the store holds.
    /// </summary>
    public static Command WithStoreAction(
        this Command command, TextWriter output, TextWriter error, Func<CliContext, IRatchetStore, ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(Action(output, error, async (context, parse, cancellationToken) =>
        {
            await using var store = await context.OpenStoreAsync(cancellationToken);
            return await body(context, store, parse, cancellationToken);
        }));
        return command;
    }

    /// <summary>An action that gets a <see cref="CliContext"/>, with every error turned into one line and an exit code.</summary>
    public static Func<ParseResult, CancellationToken, Task<int>> Action(TextWriter output, TextWriter error, Func<CliContext, ParseResult, CancellationToken, Task<int>> body) =>
        async (parse, cancellationToken) =>
        {
            using var context = new CliContext(parse, output, error);
            try
            {
                return await body(context, parse, cancellationToken);
            }
            catch (Exception ex)
            {
                var (code, exitCode) = Classify(ex, cancellationToken);
                if (exitCode == ExitCodes.Interrupted)
                {
                    await error.WriteLineAsync("ratchet: interrupted.");
                    return exitCode;
                }

                await error.WriteLineAsync($"ratchet: error[{code}]: {CliHints.MessageOf(ex)}");
                if (context.Verbose)
                {
                    await error.WriteLineAsync(ex.ToString());
                }

                return exitCode;
            }
        };

    public static string Version =>
        typeof(RatchetCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private static (string Code, int ExitCode) Classify(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => ("interrupted", ExitCodes.Interrupted),
        UsageException or InvalidStoreUriException or Hosting.InvalidExportException => ("usage", ExitCodes.BadInput),
        StoreUnavailableException or StoreCorruptException or StoreSchemaException or StoreOperationException => (((RatchetException)exception).ErrorCode, ExitCodes.StoreProblem),
        WorkflowFileException or WorkflowInputException or WorkflowNotFoundException or InvalidTransitionException or
            UnknownWorkflowTypeException or UnknownNodeException or NodeNotReachedException or ExpressionException or StateKeyNotFoundException or CheckpointNotFoundException or
            StoreNotEmptyException or WorkflowAlreadyExistsException or WorkflowDefinitionException or
            TriggerDefinitionException or TriggerNotFoundException or TriggerAlreadyExistsException or
            ReservedNamespaceException or NotAPhaseWorkflowException => (((RatchetException)exception).ErrorCode, ExitCodes.BadInput),
        Ratchet.Agents.AgentDirectoryException agents => (agents.ErrorCode, ExitCodes.BadInput),
        JsonTooDeepException tooDeep => (tooDeep.ErrorCode, ExitCodes.BadInput),
        Ratchet.Secrets.SecretException secret => (secret.ErrorCode, ExitCodes.KeyProblem),
        RatchetException ratchet => (ratchet.ErrorCode, ExitCodes.Failed),
        ArgumentException or JsonException or FileNotFoundException or DirectoryNotFoundException => ("invalid-input", ExitCodes.BadInput),
        UnauthorizedAccessException or IOException => ("io", ExitCodes.BadInput),
        _ => ("internal", ExitCodes.Failed),
    };

    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
