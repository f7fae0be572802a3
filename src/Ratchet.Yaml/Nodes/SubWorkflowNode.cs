using System.Text.Json;
using Ratchet.Engine;
using Ratchet.Expressions;

namespace Ratchet.Yaml;

/// <summary>A <c>workflow:</c> node: another workflow file, run as a sub-workflow.</summary>
public sealed record SubWorkflowNodeSpec : NodeSpec
{
    internal SubWorkflowNodeSpec()
    {
    }

    /// <summary>The sub-workflow's file, relative to this file.</summary>
    public string WorkflowPath { get; init; } = "";

    /// <summary>The child's inputs, each a template.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> With { get; init; } = [];
}

/// <summary>Reads <c>workflow: FILE</c> with <c>with</c>; the compiler loads the file (see <see cref="WorkflowCompiler"/>).</summary>
internal sealed class SubWorkflowNodeReader : NodeReader<SubWorkflowNodeSpec>
{
    public override string Verb => "workflow";

    public override string Summary => "another workflow file";

    public override IReadOnlyList<string> Keys { get; } = ["with"];

    public override NodeSpec? Read(NodeReading node)
    {
        var path = node.Yaml.Text(node.Verb, "workflow");
        var with = node.Key("with") is { } value ? node.Yaml.Environment(value, "with") : [];
        foreach (var (_, template) in with)
        {
            node.Yaml.CheckTemplate(template, node.Key("with")!, $"an input of node '{node.Name}'");
        }

        return path is null ? null : new SubWorkflowNodeSpec { WorkflowPath = path, With = with };
    }

    protected override void Compile(SubWorkflowNodeSpec spec, NodeCompilation compilation)
    {
        var with = spec.With.Select(w => (w.Key, Template.Parse(w.Value))).ToArray();
        var file = compilation.File;
        var child = compilation.Children[spec.Name];
        compilation.Builder.SubWorkflow(spec.Name, child.Name, context => ChildInput(context, file, child, with));
    }

    /// <summary>
    /// The child's input, bound through its declared inputs (converted to their types, defaults applied): from the
    /// rendered <c>with:</c> values, or, without <c>with:</c>, from the parent's inputs of the same names.
    /// </summary>
    private static JsonElement? ChildInput(NodeContext context, WorkflowFile file, WorkflowFile child, (string Key, Template Value)[] with)
    {
        if (with.Length > 0)
        {
            var scope = StateScope.Build(context, file, workspace: null, output: null);
            return WorkflowInputs.Bind(child, with.Select(w => $"{w.Key}={w.Value.Render(scope)}"));
        }

        var inherited = new List<string>();
        if (context.Input is { ValueKind: JsonValueKind.Object } input)
        {
            foreach (var declared in child.Inputs)
            {
                if (input.TryGetProperty(declared.Name, out var value))
                {
                    inherited.Add($"{declared.Name}={StateScope.Text(value)}");
                }
            }
        }

        return WorkflowInputs.Bind(child, inherited);
    }
}
