using System.Text.Json;
using Ratchet.Serialization;
using Ratchet.Storage;

namespace Ratchet.Yaml;

/// <summary>
/// Keeps the exact text of every workflow file a run started with, in the store (key-value namespace
/// <see cref="Namespace"/>), so that a resumed run, a worker on another machine or an approval days later runs the
/// definition the workflow started with, whatever happened to the file since.
/// </summary>
public static class DefinitionCatalog
{
    /// <summary>The key-value namespace that holds the snapshots.</summary>
    public const string Namespace = "ratchet.definitions";

    /// <summary>Records the files of a compiled workflow (root and sub-workflows) under the root's name and version.</summary>
    public static Task SaveAsync(IRatchetStore store, IReadOnlyList<CompiledWorkflow> compiled, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(compiled);
        var root = compiled[0];
        var bundle = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var workflow in compiled)
        {
            bundle[workflow.File.Path] = workflow.File.Text;
        }

        var value = JsonSerializer.SerializeToElement(new Dictionary<string, object>
        {
            ["root"] = root.File.Path,
            ["files"] = bundle,
        });
        return store.CommitAsync(new ChangeSet().SaveValue(Namespace, $"{root.Definition.Name}@{root.Definition.Version}", value), cancellationToken);
    }

    /// <summary>Every recorded workflow, compiled from the recorded text (not from the files on disk now).</summary>
    public static async Task<IReadOnlyList<CompiledWorkflow>> LoadAllAsync(IRatchetStore store, ShellOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var all = new List<CompiledWorkflow>();
        foreach (var entry in await store.ListValuesAsync(Namespace, cancellationToken))
        {
            var root = entry.Value.GetProperty("root").GetString()!;
            var files = entry.Value.GetProperty("files").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
            WorkflowFile Resolve(string path) => files.TryGetValue(path, out var text)
                ? WorkflowFileParser.Parse(text, path, cancellationToken: cancellationToken)
                : throw new WorkflowFileException([new WorkflowFileProblem(path, null, $"The recorded definition '{entry.Key}' lacks this file; run the workflow again from its file.")]);

            all.AddRange(WorkflowCompiler.Compile(Resolve(root), options, Resolve));
        }

        return all;
    }
}
