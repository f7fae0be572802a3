using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Ratchet.GitHub;

/// <summary>
/// The two issue-comment endpoints Ratchet uses (pull requests share them), with bounded retries: 5xx, 429, 403 with a
/// rate limit and failed connections are tried again after a back-off (or the reset time GitHub gives); any other 4xx is
/// final. Returns null instead of throwing, so callers never fail a workflow over a comment.
/// </summary>
internal sealed class GitHubRestClient(HttpClient http, GitHubProgressOptions options, ILogger logger, GitHubTrouble trouble)
{
    /// <summary>Creates a comment; its id, or null if GitHub refused or could not be reached.</summary>
    public async Task<long?> CreateCommentAsync(GitHubTarget target, string body, CancellationToken cancellationToken)
    {
        var path = $"repos/{Uri.EscapeDataString(target.Owner)}/{Uri.EscapeDataString(target.Repository)}/issues/{target.Number}/comments";
        var (status, comment) = await SendAsync(HttpMethod.Post, path, body, cancellationToken);
        return status == HttpStatusCode.Created || status == HttpStatusCode.OK ? comment?.Id : null;
    }

    /// <summary>Replaces a comment's body; NotFound when it was deleted, null when the edit could not be made.</summary>
    public async Task<HttpStatusCode?> EditCommentAsync(GitHubTarget target, long commentId, string body, CancellationToken cancellationToken)
    {
        var path = $"repos/{Uri.EscapeDataString(target.Owner)}/{Uri.EscapeDataString(target.Repository)}/issues/comments/{commentId.ToString(CultureInfo.InvariantCulture)}";
        var (status, _) = await SendAsync(HttpMethod.Patch, path, body, cancellationToken);
        return status;
    }

    private async Task<(HttpStatusCode? Status, CommentResponse? Comment)> SendAsync(HttpMethod method, string path, string body, CancellationToken cancellationToken)
    {
        var url = new Uri(options.BaseUrl.AbsoluteUri.EndsWith('/') ? options.BaseUrl : new Uri(options.BaseUrl.AbsoluteUri + "/"), path);
        HttpStatusCode? last = null;
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, url)
            {
                Content = JsonContent.Create(new CommentRequest(body), GitHubJsonContext.Default.CommentRequest),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.github+json"));
            request.Headers.Add("X-GitHub-Api-Version", "2022-11-28");
            request.Headers.UserAgent.Add(new ProductInfoHeaderValue("Ratchet", typeof(GitHubRestClient).Assembly.GetName().Version?.ToString() ?? "1"));

            TimeSpan delay;
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                last = response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    trouble.Cleared();
                    var comment = response.Content.Headers.ContentLength == 0
                        ? null
                        : await response.Content.ReadFromJsonAsync(GitHubJsonContext.Default.CommentResponse, cancellationToken);
                    return (response.StatusCode, comment);
                }

                if (RetryDelay(response, attempt) is not { } wait)
                {
                    Log.Refused(logger, trouble.Level(), method.Method, path, (int)response.StatusCode, response.ReasonPhrase ?? "");
                    return (response.StatusCode, null);
                }

                delay = wait;
                if (attempt < options.MaxAttempts)
                {
                    Log.Retrying(logger, trouble.Level(), method.Method, path, (int)response.StatusCode, attempt, options.MaxAttempts, delay);
                }
            }
            catch (HttpRequestException ex)
            {
                delay = Backoff(attempt);
                if (attempt < options.MaxAttempts)
                {
                    Log.Unreachable(logger, trouble.Level(), method.Method, path, attempt, options.MaxAttempts, delay, ex);
                }
            }
            catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                // HttpClient's own timeout: as good as unreachable.
                delay = Backoff(attempt);
                if (attempt < options.MaxAttempts)
                {
                    Log.Unreachable(logger, trouble.Level(), method.Method, path, attempt, options.MaxAttempts, delay, ex);
                }
            }

            if (attempt >= options.MaxAttempts)
            {
                Log.GaveUp(logger, trouble.Level(), method.Method, path, attempt, (int?)last ?? 0);
                return (null, null);
            }

            await Task.Delay(delay, options.TimeProvider, cancellationToken);
        }
    }

    /// <summary>How long to wait before trying again, or null when trying again cannot help.</summary>
    private TimeSpan? RetryDelay(HttpResponseMessage response, int attempt)
    {
        var status = (int)response.StatusCode;
        var rateLimited = status == 429 ||
            (status == 403 && (response.Headers.RetryAfter is not null || Header(response, "x-ratelimit-remaining") == "0"));
        if (!rateLimited && status < 500)
        {
            return null;
        }

        if (response.Headers.RetryAfter is { } retryAfter)
        {
            var wait = retryAfter.Delta ?? (retryAfter.Date is { } date ? date - options.TimeProvider.GetUtcNow() : Backoff(attempt));
            return Clamp(wait);
        }

        if (rateLimited && long.TryParse(Header(response, "x-ratelimit-reset"), NumberStyles.None, CultureInfo.InvariantCulture, out var reset))
        {
            return Clamp(DateTimeOffset.FromUnixTimeSeconds(reset) - options.TimeProvider.GetUtcNow());
        }

        return Backoff(attempt);
    }

    private TimeSpan Backoff(int attempt) =>
        Clamp(options.RetryDelay * Math.Pow(2, Math.Min(attempt - 1, 16)));

    private TimeSpan Clamp(TimeSpan wait) =>
        wait < TimeSpan.Zero ? TimeSpan.Zero : wait > options.MaxRetryDelay ? options.MaxRetryDelay : wait;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}

/// <summary>The body of a create or edit request.</summary>
internal sealed record CommentRequest([property: JsonPropertyName("body")] string Body);

/// <summary>The part of GitHub's comment answer Ratchet reads.</summary>
internal sealed record CommentResponse([property: JsonPropertyName("id")] long Id);

/// <summary>The progress comment's id (and the summary's), saved in the store so a restarted process edits the same comment.</summary>
internal sealed record CommentState(
    [property: JsonPropertyName("commentId")] long CommentId,
    [property: JsonPropertyName("summaryId")] long? SummaryId);

[JsonSerializable(typeof(CommentRequest))]
[JsonSerializable(typeof(CommentResponse))]
[JsonSerializable(typeof(CommentState))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class GitHubJsonContext : JsonSerializerContext;
