using Ratchet.Engine;

namespace Ratchet.Templates.Reviews;

/// <summary><c>ParsingComment</c>: through <see cref="IReviewCommentParser"/>.</summary>
internal sealed class ParseCommentNode : TemplateNode
{
    protected override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var comment = run.Input<ReviewCommentInput>(ReviewCommentInput.Problem, ReviewCommentInput.Example);
        var parsed = await run.Service<IReviewCommentParser>().ParseAsync(comment, run.Step, cancellationToken);
        return NodeResult.Success(run.Checked(parsed, $"{nameof(IReviewCommentParser)}.{nameof(IReviewCommentParser.ParseAsync)}"));
    }
}

/// <summary><c>LocatingCode</c>: through <see cref="ICodeLocator"/>.</summary>
internal sealed class LocateCodeNode : TemplateNode
{
    protected override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var comment = run.Input<ReviewCommentInput>(ReviewCommentInput.Problem, ReviewCommentInput.Example);
        var parsed = run.Artifact<ParsedComment>(PullRequestReviewTemplate.ParsingComment);
        var located = await run.Service<ICodeLocator>().LocateAsync(new LocateCodeRequest(comment, parsed), run.Step, cancellationToken);
        return NodeResult.Success(run.Checked(located, $"{nameof(ICodeLocator)}.{nameof(ICodeLocator.LocateAsync)}"));
    }
}

/// <summary><c>GeneratingFix</c>: through <see cref="IFixGenerator"/>.</summary>
internal sealed class GenerateFixNode : TemplateNode
{
    protected override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var comment = run.Input<ReviewCommentInput>(ReviewCommentInput.Problem, ReviewCommentInput.Example);
        var parsed = run.Artifact<ParsedComment>(PullRequestReviewTemplate.ParsingComment);
        var code = run.Artifact<LocatedCode>(PullRequestReviewTemplate.LocatingCode);
        var fix = await run.Service<IFixGenerator>().GenerateFixAsync(new FixRequest(comment, parsed, code), run.Step, cancellationToken);
        return NodeResult.Success(run.Checked(fix, $"{nameof(IFixGenerator)}.{nameof(IFixGenerator.GenerateFixAsync)}"));
    }
}

/// <summary><c>ApplyingChanges</c>: through <see cref="IChangeApplier"/>.</summary>
internal sealed class ApplyChangesNode : TemplateNode
{
    protected override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var comment = run.Input<ReviewCommentInput>(ReviewCommentInput.Problem, ReviewCommentInput.Example);
        var parsed = run.Artifact<ParsedComment>(PullRequestReviewTemplate.ParsingComment);
        var fix = run.Artifact<GeneratedFix>(PullRequestReviewTemplate.GeneratingFix);
        var applied = await run.Service<IChangeApplier>().ApplyAsync(new ApplyChangesRequest(comment, parsed, fix), run.Step, cancellationToken);
        return NodeResult.Success(run.Checked(applied, $"{nameof(IChangeApplier)}.{nameof(IChangeApplier.ApplyAsync)}"));
    }
}

/// <summary><c>Responding</c>: through <see cref="IReviewResponder"/>.</summary>
internal sealed class RespondNode : TemplateNode
{
    protected override async Task<NodeResult> RunAsync(StepRun run, CancellationToken cancellationToken)
    {
        var comment = run.Input<ReviewCommentInput>(ReviewCommentInput.Problem, ReviewCommentInput.Example);
        var parsed = run.Artifact<ParsedComment>(PullRequestReviewTemplate.ParsingComment);
        var fix = run.Artifact<GeneratedFix>(PullRequestReviewTemplate.GeneratingFix);
        var applied = run.Artifact<AppliedChanges>(PullRequestReviewTemplate.ApplyingChanges);
        var response = await run.Service<IReviewResponder>().RespondAsync(new ResponseRequest(comment, parsed, fix, applied), run.Step, cancellationToken);
        return NodeResult.Success(run.Checked(response, $"{nameof(IReviewResponder)}.{nameof(IReviewResponder.RespondAsync)}"));
    }
}
