using Ratchet.Expressions;

namespace Ratchet.Yaml;

/// <summary>An <c>approval:</c> node: waits for a human.</summary>
public sealed record ApprovalNodeSpec : NodeSpec
{
    internal ApprovalNodeSpec()
    {
    }

    /// <summary>The prompt, a template rendered when the workflow parks at the node.</summary>
    public string Prompt { get; init; } = "";
}

/// <summary>Reads <c>approval: PROMPT</c>; its outcomes are <c>approved</c> and <c>rejected</c>.</summary>
internal sealed class ApprovalNodeReader : NodeReader<ApprovalNodeSpec>
{
    public override string Verb => "approval";

    public override string Summary => "a prompt for a human";

    public override bool Takes(TransitionKind transition) => transition is not (TransitionKind.ExitCode or TransitionKind.Condition);

    public override NodeSpec? Read(NodeReading node)
    {
        var prompt = node.Yaml.Text(node.Verb, "approval");
        if (prompt is null)
        {
            return null;
        }

        node.Yaml.CheckTemplate(prompt, node.Verb, $"the prompt of node '{node.Name}'");
        return new ApprovalNodeSpec { Prompt = prompt };
    }

    protected override void Compile(ApprovalNodeSpec spec, NodeCompilation compilation)
    {
        var prompt = Template.Parse(spec.Prompt);
        var workspaces = compilation.WorkspacesDirectory;
        var file = compilation.File;
        var name = spec.Name;
        compilation.Builder.Approval(name, prompt.Text, workflow =>
        {
            // The workflow as it parks: its attempt there is the one the waiting event records.
            var workspace = workspaces is null ? null : Path.Combine(workspaces, workflow.Id);
            return prompt.Render(StateScope.Build(workflow, name, Math.Max(1, workflow.Attempt), file, workspace, output: null));
        });
    }
}
