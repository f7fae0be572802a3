using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Ratchet.Storage;

/// <summary>
/// An optimistic transaction for library users: reads are remembered with their versions, writes are collected, and
/// the whole is committed as one change set that holds only if nothing read has changed meanwhile.
/// </summary>
/// <remarks>Obtain one through <see cref="StoreExtensions.TransactionAsync{T}"/>, which retries the work on a conflict.</remarks>
public sealed class StoreTransaction
{
    private readonly IRatchetStore _store;
    private readonly HashSet<string> _checkedWorkflows = new(StringComparer.Ordinal);
    private readonly HashSet<(string, string)> _checkedValues = [];

    internal StoreTransaction(IRatchetStore store, int attempt)
    {
        _store = store;
        Attempt = attempt;
    }

    /// <summary>The writes collected so far; add to it directly for anything the helpers below do not cover.</summary>
    public ChangeSet Changes { get; } = new();

    /// <summary>1 on the first run of the work, 2 after the first conflict, and so on.</summary>
    public int Attempt { get; }

    /// <summary>Reads a workflow; the commit will hold only if it is still at this version (or still absent).</summary>
    public async Task<WorkflowRecord?> GetWorkflowAsync(string id, CancellationToken cancellationToken = default)
    {
        var workflow = await _store.GetWorkflowAsync(id, cancellationToken);
        if (_checkedWorkflows.Add(id))
        {
            Changes.ExpectWorkflowVersion(id, workflow?.Version ?? 0);
        }

        return workflow;
    }

    /// <summary>Reads a key; the commit will hold only if it is still at this version (or still absent).</summary>
    public async Task<KeyValueEntry?> GetValueAsync(string @namespace, string key, CancellationToken cancellationToken = default)
    {
        var entry = await _store.GetValueAsync(@namespace, key, cancellationToken);
        if (_checkedValues.Add((@namespace, key)))
        {
            Changes.ExpectValueVersion(@namespace, key, entry?.Version ?? 0);
        }

        return entry;
    }

    /// <summary>Inserts a workflow.</summary>
    public StoreTransaction CreateWorkflow(WorkflowRecord record)
    {
        Changes.CreateWorkflow(record);
        return this;
    }

    /// <summary>Updates a workflow at the version it was read at.</summary>
    public StoreTransaction UpdateWorkflow(WorkflowRecord record)
    {
        Changes.UpdateWorkflow(record);
        return this;
    }

    /// <summary>Appends an audit event.</summary>
    public StoreTransaction AppendEvent(AuditEvent auditEvent)
    {
        Changes.AppendEvent(auditEvent);
        return this;
    }

    /// <summary>Saves a value.</summary>
    public StoreTransaction SaveValue(string @namespace, string key, JsonElement value)
    {
        Changes.SaveValue(@namespace, key, value);
        return this;
    }

    /// <summary>Deletes a key.</summary>
    public StoreTransaction DeleteValue(string @namespace, string key)
    {
        Changes.DeleteValue(@namespace, key);
        return this;
    }
}

/// <summary>Options of <see cref="StoreExtensions.TransactionAsync{T}"/>.</summary>
public sealed record TransactionOptions
{
    /// <summary>How many times the work runs before a conflict is given up on and thrown. Default 5.</summary>
    public int MaxAttempts { get; init; } = 5;
}

/// <summary>Conveniences built on the storage contract, so that every backend has them alike.</summary>
public static class StoreExtensions
{
    /// <summary>
    /// Runs <paramref name="work"/> as an optimistic transaction and commits what it wrote atomically. If something it
    /// read changed before the commit, the work runs again on fresh data (so it must have no other side effects), up
    /// to <see cref="TransactionOptions.MaxAttempts"/> times.
    /// </summary>
    /// <exception cref="WorkflowConcurrencyException">Every attempt met a conflict.</exception>
    /// <exception cref="KeyValueConcurrencyException">Every attempt met a conflict.</exception>
    public static async Task<T> TransactionAsync<T>(
        this IRatchetStore store,
        Func<StoreTransaction, CancellationToken, Task<T>> work,
        TransactionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(work);
        var maxAttempts = Math.Max(1, (options ?? new TransactionOptions()).MaxAttempts);
        for (var attempt = 1; ; attempt++)
        {
            var transaction = new StoreTransaction(store, attempt);
            var result = await work(transaction, cancellationToken);
            if (transaction.Changes.IsEmpty)
            {
                return result;
            }

            try
            {
                await store.CommitAsync(transaction.Changes, cancellationToken);
                return result;
            }
            catch (Exception ex) when (ex is WorkflowConcurrencyException or KeyValueConcurrencyException && attempt < maxAttempts)
            {
                // Someone else changed what the work read: run it again on fresh data.
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> as an optimistic transaction; see <see cref="TransactionAsync{T}"/>.</summary>
    public static Task TransactionAsync(
        this IRatchetStore store,
        Func<StoreTransaction, CancellationToken, Task> work,
        TransactionOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        return store.TransactionAsync<bool>(async (tx, ct) =>
        {
            await work(tx, ct);
            return true;
        }, options, cancellationToken);
    }

    /// <summary>Saves one value in its own commit.</summary>
    public static Task SaveValueAsync(this IWorkflowStore store, string @namespace, string key, JsonElement value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.CommitAsync(new ChangeSet().SaveValue(@namespace, key, value), cancellationToken);
    }

    /// <summary>Deletes one key in its own commit.</summary>
    public static Task DeleteValueAsync(this IWorkflowStore store, string @namespace, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return store.CommitAsync(new ChangeSet().DeleteValue(@namespace, key), cancellationToken);
    }

    /// <summary>Every workflow that is Pending, Running or Waiting (all pages), oldest first.</summary>
    public static Task<IReadOnlyList<WorkflowRecord>> ListActiveWorkflowsAsync(this IWorkflowStore store, CancellationToken cancellationToken = default) =>
        store.ListAllWorkflowsAsync(WorkflowQuery.Active, cancellationToken);

    /// <summary>Every workflow matching <paramref name="query"/>, all pages read (its Limit and PageToken are ignored).</summary>
    public static async Task<IReadOnlyList<WorkflowRecord>> ListAllWorkflowsAsync(this IWorkflowStore store, WorkflowQuery query, CancellationToken cancellationToken = default)
    {
        var all = new List<WorkflowRecord>();
        await foreach (var page in store.ReadWorkflowPagesAsync(query, WorkflowQuery.MaxLimit, cancellationToken))
        {
            all.AddRange(page);
        }

        return all;
    }

    /// <summary>
    /// The workflows matching <paramref name="query"/>, a page of up to <paramref name="pageSize"/> at a time, so that a
    /// large store is walked without holding it all (its Limit and PageToken are ignored).
    /// </summary>
    public static async IAsyncEnumerable<IReadOnlyList<WorkflowRecord>> ReadWorkflowPagesAsync(
        this IWorkflowStore store, WorkflowQuery query, int pageSize, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(query);
        query = query with { Limit = pageSize, PageToken = null };
        while (true)
        {
            var page = await store.ListWorkflowsAsync(query, cancellationToken);
            if (page.Items.Count > 0)
            {
                yield return page.Items;
            }

            if (page.NextPageToken is null)
            {
                yield break;
            }

            query = query with { PageToken = page.NextPageToken };
        }
    }

    /// <summary>The workflow with this id.</summary>
    /// <exception cref="WorkflowNotFoundException">There is none.</exception>
    public static async Task<WorkflowRecord> GetRequiredWorkflowAsync(this IWorkflowStore store, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return await store.GetWorkflowAsync(id, cancellationToken) ?? throw new WorkflowNotFoundException(id);
    }
}
