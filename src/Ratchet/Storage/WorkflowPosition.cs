using System.Globalization;
using System.Text;

namespace Ratchet.Storage;

/// <summary>
/// A place in a workflow listing, where a page ended: listings are ordered by creation time (whole microseconds,
/// see <see cref="StoreTime"/>), then by id (ordinal). A page token is one of these, encoded.
/// </summary>
/// <param name="CreatedMicroseconds">The creation time of the last workflow of the page, in microseconds since the Unix epoch.</param>
/// <param name="Id">The id of the last workflow of the page.</param>
public readonly record struct WorkflowPosition(long CreatedMicroseconds, string Id)
{
    /// <summary>Where <paramref name="workflow"/> stands in a listing.</summary>
    public static WorkflowPosition Of(WorkflowRecord workflow)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        return new WorkflowPosition(StoreTime.ToMicroseconds(workflow.CreatedAt), workflow.Id);
    }

    /// <summary>Whether <paramref name="workflow"/> comes after this position in a listing in <paramref name="order"/>.</summary>
    public bool Precedes(WorkflowRecord workflow, ListOrder order)
    {
        ArgumentNullException.ThrowIfNull(workflow);
        var byCreated = StoreTime.ToMicroseconds(workflow.CreatedAt).CompareTo(CreatedMicroseconds);
        var comparison = byCreated != 0 ? byCreated : string.CompareOrdinal(workflow.Id, Id);
        return order == ListOrder.NewestFirst ? comparison < 0 : comparison > 0;
    }
}

/// <summary>
/// Page tokens: a <see cref="WorkflowPosition"/> as base64 of <c>&lt;created µs&gt;:&lt;id&gt;</c> (UTF-8), the format
/// every store has issued, so tokens handed out before the stores shared this code still continue their listing.
/// </summary>
internal static class PageTokens
{
    public static string Format(WorkflowPosition position) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{position.CreatedMicroseconds}:{position.Id}")));

    /// <exception cref="ArgumentException">The token is not one a store issued.</exception>
    public static WorkflowPosition Parse(string token, string parameterName)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && long.TryParse(text.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var created))
            {
                return new WorkflowPosition(created, text[(colon + 1)..]);
            }
        }
        catch (FormatException)
        {
            // Falls through to the refusal below.
        }

        throw new ArgumentException($"The page token '{token}' was not issued by this store; pass the NextPageToken of a previous page, or none.", parameterName);
    }
}
