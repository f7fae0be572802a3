namespace Ratchet.Templates.Reviews;

/// <summary><c>ParsingComment</c>: through <see cref="IReviewCommentParser"/>.</summary>
internal sealed class ParseCommentNode() : ServiceStepNode<IReviewCommentParser, ReviewCommentInput, ParsedComment>(
    ReviewRun.Comment, (parser, comment, step, ct) => parser.ParseAsync(comment, step, ct), nameof(IReviewCommentParser.ParseAsync));

/// <summary><c>LocatingCode</c>: through <see cref="ICodeLocator"/>.</summary>
internal sealed class LocateCodeNode() : ServiceStepNode<ICodeLocator, LocateCodeRequest, LocatedCode>(
    run => new LocateCodeRequest(ReviewRun.Comment(run), ReviewRun.Parsed(run)),
    (locator, request, step, ct) => locator.LocateAsync(request, step, ct), nameof(ICodeLocator.LocateAsync));

/// <summary><c>GeneratingFix</c>: through <see cref="IFixGenerator"/>.</summary>
internal sealed class GenerateFixNode() : ServiceStepNode<IFixGenerator, FixRequest, GeneratedFix>(
    run => new FixRequest(ReviewRun.Comment(run), ReviewRun.Parsed(run), run.Artifact<LocatedCode>(PullRequestReviewTemplate.LocatingCode)),
    (generator, request, step, ct) => generator.GenerateFixAsync(request, step, ct), nameof(IFixGenerator.GenerateFixAsync));

/// <summary><c>ApplyingChanges</c>: through <see cref="IChangeApplier"/>.</summary>
internal sealed class ApplyChangesNode() : ServiceStepNode<IChangeApplier, ApplyChangesRequest, AppliedChanges>(
    run => new ApplyChangesRequest(ReviewRun.Comment(run), ReviewRun.Parsed(run), ReviewRun.Fix(run)),
    (applier, request, step, ct) => applier.ApplyAsync(request, step, ct), nameof(IChangeApplier.ApplyAsync));

/// <summary><c>Responding</c>: through <see cref="IReviewResponder"/>.</summary>
internal sealed class RespondNode() : ServiceStepNode<IReviewResponder, ResponseRequest, ReviewResponse>(
    run => new ResponseRequest(
        ReviewRun.Comment(run), ReviewRun.Parsed(run), ReviewRun.Fix(run), run.Artifact<AppliedChanges>(PullRequestReviewTemplate.ApplyingChanges)),
    (responder, request, step, ct) => responder.RespondAsync(request, step, ct), nameof(IReviewResponder.RespondAsync));

/// <summary>The review steps' input and the artifacts several of them read.</summary>
internal static class ReviewRun
{
    public static ReviewCommentInput Comment(StepRun run) => run.Input<ReviewCommentInput>(ReviewCommentInput.Problem, ReviewCommentInput.Example);

    public static ParsedComment Parsed(StepRun run) => run.Artifact<ParsedComment>(PullRequestReviewTemplate.ParsingComment);

    public static GeneratedFix Fix(StepRun run) => run.Artifact<GeneratedFix>(PullRequestReviewTemplate.GeneratingFix);
}
