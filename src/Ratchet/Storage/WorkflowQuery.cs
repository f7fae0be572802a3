namespace Ratchet.Storage;

/// <summary>In which order a listing returns workflows.</summary>
public enum ListOrder
{
    /// <summary>Oldest first (by creation time, then id).</summary>
    OldestFirst = 0,

    /// <summary>Newest first (by creation time, then id).</summary>
    NewestFirst = 1,
}

/// <summary>A filter and page request for listing workflows. Every filter that is set must hold.</summary>
public sealed record WorkflowQuery
{
    /// <summary>The default page size.</summary>
    public const int DefaultLimit = 100;

    /// <summary>The largest page a store returns.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>Only workflows in one of these statuses; null or empty for all.</summary>
    public IReadOnlyList<WorkflowStatus>? Statuses { get; init; }

    /// <summary>Only workflows of one of these types; null or empty for all.</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>Only sub-workflows of this parent.</summary>
    public string? ParentId { get; init; }

    /// <summary>Created at or after this time.</summary>
    public DateTimeOffset? CreatedFrom { get; init; }

    /// <summary>Created before this time.</summary>
    public DateTimeOffset? CreatedTo { get; init; }

    /// <summary>Last changed at or after this time.</summary>
    public DateTimeOffset? UpdatedFrom { get; init; }

    /// <summary>Last changed before this time.</summary>
    public DateTimeOffset? UpdatedTo { get; init; }

    /// <summary>Whether archived workflows are listed too (they are not by default).</summary>
    public bool IncludeArchived { get; init; }

    /// <summary>The order of the results.</summary>
    public ListOrder Order { get; init; } = ListOrder.OldestFirst;

    /// <summary>The page size, 1 to <see cref="MaxLimit"/>.</summary>
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>
    /// The <see cref="WorkflowPage.NextPageToken"/> of the previous page, to continue from it. Tokens mark a position
    /// (creation time and id), not an offset: a workflow that exists throughout a listing is seen exactly once even if
    /// others are created or deleted between pages.
    /// </summary>
    public string? PageToken { get; init; }

    /// <summary>The workflows that still need work or are parked: Pending, Running or Waiting.</summary>
    public static WorkflowQuery Active { get; } = new()
    {
        Statuses = [WorkflowStatus.Pending, WorkflowStatus.Running, WorkflowStatus.Waiting],
    };
}

/// <summary>One page of a workflow listing.</summary>
/// <param name="Items">The workflows on this page.</param>
/// <param name="NextPageToken">Pass this as <see cref="WorkflowQuery.PageToken"/> for the next page; null on the last page.</param>
public sealed record WorkflowPage(IReadOnlyList<WorkflowRecord> Items, string? NextPageToken);

/// <summary>A request to lease due workflows for a worker.</summary>
public sealed record LeaseRequest
{
    /// <summary>The worker asking, unique among live workers (e.g. host name plus process id plus a random part).</summary>
    public required string Owner { get; init; }

    /// <summary>How long the lease lasts unless renewed.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>The most workflows to take.</summary>
    public int MaxCount { get; init; } = 16;

    /// <summary>Only workflows of these types (a worker that knows only some definitions); null or empty for any.</summary>
    public IReadOnlyList<string>? Types { get; init; }
}

/// <summary>How an import treats data the target store already has.</summary>
public enum ImportMode
{
    /// <summary>Refuse with <see cref="StoreNotEmptyException"/> unless the target is empty.</summary>
    EmptyStoreOnly = 0,

    /// <summary>Keep every record the target has; add the workflows, values and checkpoints it lacks.</summary>
    Merge = 1,
}
