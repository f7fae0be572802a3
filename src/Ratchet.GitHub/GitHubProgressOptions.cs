namespace Ratchet.GitHub;

/// <summary>Settings of <see cref="GitHubProgressObserver"/>. Validated when the observer is created.</summary>
public sealed class GitHubProgressOptions
{
    /// <summary>The default REST API root, for github.com.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.github.com/");

    /// <summary>The token sent as <c>Authorization: Bearer</c>; required. Never logged.</summary>
    public string Token { get; set; } = "";

    /// <summary>The REST API root: <see cref="DefaultBaseUrl"/>, or <c>https://HOST/api/v3/</c> for GitHub Enterprise Server.</summary>
    public Uri BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>How many times one request is tried before it is dropped (default 5).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The first back-off after a 5xx, a rate limit without a reset time, or a failed connection (default 1 s); doubled each time.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest single wait between attempts, also for a rate limit's reset time (default 60 s).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long disposing waits for pending updates (the final summary above all) to be sent (default 15 s).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Whether a short summary is posted as a new comment when a workflow ends (default true). Edits notify nobody; a
    /// new comment tells the subscribers that the work is done.
    /// </summary>
    public bool PostSummaryComment { get; set; } = true;

    /// <summary>The clock for back-off waits and rate-limit resets (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws one <see cref="ArgumentException"/> listing every problem.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Token))
        {
            problems.Add("Token is empty: set it to a GitHub token (the CLI reads GITHUB_TOKEN).");
        }

        if (!BaseUrl.IsAbsoluteUri || (BaseUrl.Scheme != Uri.UriSchemeHttps && BaseUrl.Scheme != Uri.UriSchemeHttp))
        {
            problems.Add($"BaseUrl '{BaseUrl}' is not an absolute http or https URL.");
        }

        if (MaxAttempts < 1)
        {
            problems.Add($"MaxAttempts is {MaxAttempts}; it must be at least 1.");
        }

        if (RetryDelay < TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            problems.Add($"RetryDelay ({RetryDelay}) must be at least zero and at most MaxRetryDelay ({MaxRetryDelay}).");
        }

        if (DrainTimeout < TimeSpan.Zero)
        {
            problems.Add($"DrainTimeout is {DrainTimeout}; it cannot be negative.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid GitHub progress options: " + string.Join(" ", problems));
        }
    }
}
