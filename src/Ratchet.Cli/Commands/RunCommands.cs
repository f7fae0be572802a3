using System.CommandLine;
using Ratchet.Engine;
using Ratchet.Hosting;
using Ratchet.Yaml;

namespace Ratchet.Cli.Commands;

/// <summary><c>run</c>, <c>validate</c>, <c>graph</c>: the commands that take a workflow file.</summary>
internal static class RunCommands
{
    public static IEnumerable<Command> Create(TextWriter output, TextWriter error)
    {
        yield return Run(output, error);
        yield return Validate(output, error);
        yield return Graph(output, error);
    }

    private static Command Run(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The workflow file (YAML)." };
        var inputs = new Option<string[]>("--input", "-i") { Description = "An input as key=value; repeat for more.", AllowMultipleArgumentsPerToken = false };
        var id = new Option<string?>("--id") { Description = "The workflow's id; running an id that exists follows the existing workflow (idempotent)." };
        var detach = new Option<bool>("--detach") { Description = "Only create the workflow and print its id; a `ratchet worker` runs it." };
        var command = Observability.AddOptions(new Command("run", "Run a workflow file: start it and follow it until it completes, fails or waits for approval.")
        {
            file, inputs, id, detach,
        });
        command.SetAction(RatchetCli.Action(output, error, async (context, parse, cancellationToken) =>
        {
            // Checked before the store is opened: a bad file or input creates nothing.
            var path = parse.GetValue(file)!;
            var root = WorkflowCompiler.Load(path, ShellDefaults(context), cancellationToken)[0];
            var input = WorkflowInputs.Bind(root.File, parse.GetValue(inputs) ?? []);
            await using var host = await EngineHost.OpenAsync(context, path, cancellationToken);
            var workflow = await host.Engine.StartAsync(root.Definition.Name, input, new StartOptions { Id = parse.GetValue(id) }, cancellationToken);
            if (parse.GetValue(detach))
            {
                if (context.Json)
                {
                    context.WriteJson(workflow);
                }
                else
                {
                    context.Output.WriteLine(workflow.Id);
                }

                return ExitCodes.Ok;
            }

            if (!context.Json)
            {
                await context.Error.WriteLineAsync($"Workflow {workflow.Id} ({root.Definition.Name}); follow it elsewhere with `ratchet state show {workflow.Id}`.");
            }

            return await host.FollowAsync(workflow.Id, cancellationToken);
        }));
        return command;
    }

    private static Command Validate(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The workflow file (YAML)." };
        var command = new Command("validate", "Check a workflow file (and the files it includes) without running it.") { file };
        command.SetAction(RatchetCli.Action(output, error, (context, parse, cancellationToken) =>
        {
            var compiled = WorkflowCompiler.Load(parse.GetValue(file)!, ShellDefaults(context), cancellationToken);
            if (context.Json)
            {
                context.WriteJson(compiled.Select(c => new { name = c.Definition.Name, version = c.Definition.Version, file = c.File.Path, nodes = c.Definition.Nodes.Count }).ToList());
            }
            else
            {
                foreach (var workflow in compiled)
                {
                    var nodes = workflow.Definition.Nodes.Count;
                    context.Output.WriteLine($"{workflow.File.Path}: valid: workflow '{workflow.Definition.Name}' (version {workflow.Definition.Version}), {nodes} node{(nodes == 1 ? "" : "s")}.");
                }
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static Command Graph(TextWriter output, TextWriter error)
    {
        var file = new Argument<string>("file") { Description = "The workflow file (YAML)." };
        var format = new Option<string>("--format") { Description = "mermaid (default) or dot.", DefaultValueFactory = _ => "mermaid" };
        format.AcceptOnlyFromAmong("mermaid", "dot");
        var command = new Command("graph", "Draw a workflow file as a Mermaid flowchart or a Graphviz DOT graph.") { file, format };
        command.SetAction(RatchetCli.Action(output, error, (context, parse, cancellationToken) =>
        {
            var definition = WorkflowCompiler.Load(parse.GetValue(file)!, ShellDefaults(context), cancellationToken)[0].Definition;
            context.Output.Write(parse.GetValue(format) == "dot" ? definition.ToDot() : definition.ToMermaid());
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    /// <summary>
    /// Shell settings beside the store, without opening it. A password in <c>--store</c> is a secret this process knows
    /// though no variable holds it: masked in records like those of the environment.
    /// </summary>
    internal static ShellOptions ShellDefaults(CliContext context) => RatchetHost.ShellFor(context.Store);
}
