namespace Ratchet.Templates.Reviews;

/// <summary>The input of the pull request review template: which review comment to act on.</summary>
/// <param name="Repository">The repository, as <c>owner/name</c>.</param>
/// <param name="PullRequest">The pull request's number.</param>
/// <param name="CommentId">The review comment's id.</param>
public sealed record ReviewCommentInput(string Repository, int PullRequest, long CommentId)
{
    internal const string Example = """{"repository":"owner/name","pullRequest":7,"commentId":123456}""";

    internal static string? Problem(ReviewCommentInput input) =>
        string.IsNullOrWhiteSpace(input.Repository) ? "its repository is missing."
        : input.PullRequest <= 0 ? $"its pull request number is {input.PullRequest}; it must be positive."
        : input.CommentId <= 0 ? $"its comment id is {input.CommentId}; it must be positive."
        : null;
}

/// <summary>What a review comment asks for: the output of the <c>ParsingComment</c> step.</summary>
/// <param name="Body">The comment's text.</param>
/// <param name="Request">The change the reviewer asks for, in a sentence.</param>
/// <param name="Path">The file the comment is on, if it is on one.</param>
/// <param name="Line">The line the comment is on, if it is on one.</param>
public sealed record ParsedComment(string Body, string Request, string? Path = null, int? Line = null);

/// <summary>What the code locator is asked to find.</summary>
/// <param name="Comment">The comment.</param>
/// <param name="Parsed">What it asks for.</param>
public sealed record LocateCodeRequest(ReviewCommentInput Comment, ParsedComment Parsed);

/// <summary>A range of lines in a file.</summary>
/// <param name="Path">The file, relative to the repository's root.</param>
/// <param name="StartLine">The first line, from 1.</param>
/// <param name="EndLine">The last line, inclusive.</param>
public sealed record CodeLocation(string Path, int StartLine, int EndLine);

/// <summary>The code a comment is about: the output of the <c>LocatingCode</c> step.</summary>
/// <param name="Locations">The places to change.</param>
public sealed record LocatedCode(IReadOnlyList<CodeLocation> Locations);

/// <summary>What the fix generator is asked to fix.</summary>
/// <param name="Comment">The comment.</param>
/// <param name="Parsed">What it asks for.</param>
/// <param name="Code">Where.</param>
public sealed record FixRequest(ReviewCommentInput Comment, ParsedComment Parsed, LocatedCode Code);

/// <summary>A change answering the comment: the output of the <c>GeneratingFix</c> step.</summary>
/// <param name="Summary">What the change does, for the reply.</param>
/// <param name="Patch">The change as a unified diff.</param>
public sealed record GeneratedFix(string Summary, string Patch);

/// <summary>What the change applier is asked to apply.</summary>
/// <param name="Comment">The comment.</param>
/// <param name="Parsed">What it asks for.</param>
/// <param name="Fix">The change to apply, commit and push to the pull request's branch.</param>
public sealed record ApplyChangesRequest(ReviewCommentInput Comment, ParsedComment Parsed, GeneratedFix Fix);

/// <summary>The change as pushed: the output of the <c>ApplyingChanges</c> step.</summary>
/// <param name="Commit">The commit pushed.</param>
/// <param name="ChangedFiles">The files it changed.</param>
public sealed record AppliedChanges(string Commit, IReadOnlyList<string> ChangedFiles);

/// <summary>What the responder is asked to reply.</summary>
/// <param name="Comment">The comment to reply to.</param>
/// <param name="Parsed">What it asked for.</param>
/// <param name="Fix">The change made.</param>
/// <param name="Changes">The commit that holds it.</param>
public sealed record ResponseRequest(ReviewCommentInput Comment, ParsedComment Parsed, GeneratedFix Fix, AppliedChanges Changes);

/// <summary>The reply posted: the output of the <c>Responding</c> step, and the workflow's output.</summary>
/// <param name="Url">The reply's address.</param>
public sealed record ReviewResponse(string Url);

/// <summary>
/// The <c>ParsingComment</c> step: fetch the review comment and work out what it asks for. Retried with back-off by
/// default (it reads from GitHub).
/// </summary>
public interface IReviewCommentParser
{
    /// <summary>Parses the comment.</summary>
    Task<ParsedComment> ParseAsync(ReviewCommentInput comment, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>The <c>LocatingCode</c> step: find the code the comment is about. Not retried by default.</summary>
public interface ICodeLocator
{
    /// <summary>Finds the code.</summary>
    Task<LocatedCode> LocateAsync(LocateCodeRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>The <c>GeneratingFix</c> step: write the change the comment asks for. Not retried by default.</summary>
public interface IFixGenerator
{
    /// <summary>Generates the change.</summary>
    Task<GeneratedFix> GenerateFixAsync(FixRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>ApplyingChanges</c> step: apply the change, commit it and push it to the pull request's branch. Retried with
/// back-off by default; make it idempotent (an attempt can fail after the push): look for the commit first.
/// </summary>
public interface IChangeApplier
{
    /// <summary>Applies and pushes the change.</summary>
    Task<AppliedChanges> ApplyAsync(ApplyChangesRequest request, StepContext context, CancellationToken cancellationToken = default);
}

/// <summary>
/// The <c>Responding</c> step: reply to the review comment. Retried with back-off by default; make it idempotent (an
/// attempt can fail after posting), for example with <see cref="StepContext.IdempotencyKey"/> hidden in the reply.
/// </summary>
public interface IReviewResponder
{
    /// <summary>Posts the reply.</summary>
    Task<ReviewResponse> RespondAsync(ResponseRequest request, StepContext context, CancellationToken cancellationToken = default);
}
