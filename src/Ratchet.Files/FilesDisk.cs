using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Ratchet.Files;

/// <summary>One file operation of a commit: write <see cref="Data"/> to <see cref="Path"/>, or delete it when null.</summary>
internal sealed record FileOperation(string Path, byte[]? Data);

/// <summary>
/// The store's files: atomic single-file writes, the write-ahead intent that makes a multi-file commit all-or-nothing,
/// its replay after a crash, and reads that refuse a damaged file rather than serve its older last good copy.
/// </summary>
/// <remarks>Every member runs with the root's lock held.</remarks>
internal sealed class FilesDisk
{
    public const string IntentPath = "journal/intent.json";
    private const string TempSuffix = ".tmp";
    private const string BackupSuffix = ".bak";

    private readonly string _root;
    private readonly ILogger _logger;

    public FilesDisk(string root, ILogger logger)
    {
        _root = Path.TrimEndingDirectorySeparator(root);
        _logger = logger;
    }

    public string Root => _root;

    public ILogger Logger => _logger;

    public string Full(string relative) => Path.Combine(_root, relative);

    /// <summary>
    /// Makes a folder under the root, a level at a time, never the root itself: a root that went away mid-operation
    /// (moved, deleted, unmounted) is an outage, and making it again would start a second, partial store there.
    /// </summary>
    private void MakeFolder(string folder)
    {
        if (Directory.Exists(folder))
        {
            return;
        }

        var parent = Path.GetDirectoryName(folder);
        if (parent is null || folder.Length <= _root.Length || !folder.StartsWith(_root, StringComparison.Ordinal))
        {
            throw new DirectoryNotFoundException($"The store's folder '{_root}' does not exist.");
        }

        if (parent.Length > _root.Length)
        {
            MakeFolder(parent);
        }

        NativeMethods.MakeDirectory(folder);
    }

    public bool Exists(string relative) => File.Exists(Full(relative));

    public bool FolderExists(string relative) => Directory.Exists(Full(relative));

    /// <summary>The sub-folders of a folder, as relative paths; none if the folder does not exist.</summary>
    public IEnumerable<string> Folders(string relative)
    {
        var full = Full(relative);
        return Directory.Exists(full)
            ? Directory.EnumerateDirectories(full).Select(d => relative + "/" + Path.GetFileName(d))
            : [];
    }

    /// <summary>The files of a folder whose names end in <paramref name="suffix"/>, as relative paths.</summary>
    public IEnumerable<string> Files(string relative, string suffix)
    {
        var full = Full(relative);
        return Directory.Exists(full)
            ? Directory.EnumerateFiles(full)
                .Select(Path.GetFileName)
                .Where(n => n!.EndsWith(suffix, StringComparison.Ordinal))
                .Select(n => relative + "/" + n)
            : [];
    }

    /// <summary>
    /// Reads and parses a file; null if neither it nor its <c>.bak</c> exists. A file that does not parse, or that is
    /// missing while its <c>.bak</c> is there, is refused with <see cref="StoreCorruptException"/> naming it and saying
    /// what to do (<paramref name="drop"/> completes "…, or " with how to give up the record); nothing is written.
    /// </summary>
    /// <remarks>
    /// The <c>.bak</c> is never served. Every read runs after <see cref="Recover"/>, so no commit is in flight: each
    /// file holds what the last commit to it wrote, which that commit reported durable, and its <c>.bak</c> holds what
    /// the commit before wrote. A damaged file was damaged after its commit, so its <c>.bak</c> is older than what was
    /// committed, and serving it would silently undo that commit (a completed workflow back to Running, a restored
    /// checkpoint rolled back). A crash during a commit, the case the copies were for, is completed by the intent.
    /// </remarks>
    public T? Read<T>(string relative, Func<byte[], T> parse, string drop) where T : class
    {
        var full = Full(relative);
        var backup = full + BackupSuffix;
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            // A delete removes the file and its .bak together, so a .bak alone means the file went outside the store.
            if (File.Exists(backup))
            {
                throw new StoreCorruptException(
                    $"The file '{full}' is missing although its last good copy '{backup}' is there, so it was removed after its last commit and the store will not guess its content. {Remedy(hasBackup: true, drop)}",
                    ex);
            }

            return null;
        }

        try
        {
            return parse(bytes);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            var hasBackup = File.Exists(backup);
            var copy = hasBackup
                ? $"; its last good copy '{backup}' holds the content from before the file's last commit, so the store will not serve it in its place"
                : " and it has no last good copy";
            throw new StoreCorruptException($"The file '{full}' is damaged ({ex.Message}){copy}. {Remedy(hasBackup, drop)}", ex);
        }
    }

    private static string Remedy(bool hasBackup, string drop) => hasBackup
        ? $"Restore the file from a backup, copy the .bak over it to accept losing that commit, or {drop}."
        : $"Restore the file from a backup, or {drop}.";

    /// <summary>
    /// Applies <paramref name="operations"/> all or none: first the intent (every operation with its data) is written
    /// and made durable, then each file is replaced, then the intent is deleted. A crash in between leaves the intent,
    /// which <see cref="Recover"/> applies again before the next operation.
    /// </summary>
    public void Commit(IReadOnlyList<FileOperation> operations)
    {
        if (operations.Count == 0)
        {
            return;
        }

        var intent = Full(IntentPath);
        MakeFolder(Path.GetDirectoryName(intent)!);
        WriteFile(intent, SerializeIntent(operations), keepBackup: false);
        NativeMethods.FsyncDirectory(Path.GetDirectoryName(intent)!);
        Apply(operations);
        File.Delete(intent);
        NativeMethods.FsyncDirectory(Path.GetDirectoryName(intent)!);
    }

    /// <summary>Re-applies a commit a crash interrupted, if there is one. Idempotent: each operation sets a file's whole content.</summary>
    public void Recover()
    {
        var intent = Full(IntentPath);
        if (!File.Exists(intent))
        {
            return;
        }

        IReadOnlyList<FileOperation> operations;
        try
        {
            operations = ParseIntent(File.ReadAllBytes(intent));
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            // The intent is renamed into place only once complete and fsynced: a damaged one was damaged afterwards.
            throw new StoreCorruptException(
                $"The commit intent '{intent}' is damaged ({ex.Message}), so an interrupted commit cannot be completed; restore the store from a backup.",
                ex);
        }

        Apply(operations);
        File.Delete(intent);
        NativeMethods.FsyncDirectory(Path.GetDirectoryName(intent)!);
        Log.IntentReplayed(_logger, operations.Count, intent);
    }

    /// <summary>Writes one file atomically on its own (temporary file, fsync, rename, directory fsync).</summary>
    public void WriteAlone(string relative, byte[] data)
    {
        var full = Full(relative);
        MakeFolder(Path.GetDirectoryName(full)!);
        WriteFile(full, data, keepBackup: false);
        NativeMethods.FsyncDirectory(Path.GetDirectoryName(full)!);
    }

    private void Apply(IReadOnlyList<FileOperation> operations)
    {
        var folders = new HashSet<string>(StringComparer.Ordinal);
        var emptied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var operation in operations)
        {
            var full = Full(operation.Path);
            var folder = Path.GetDirectoryName(full)!;
            if (operation.Data is { } data)
            {
                MakeFolder(folder);
                WriteFile(full, data, keepBackup: true);
                folders.Add(folder);
            }
            else if (Directory.Exists(folder))
            {
                File.Delete(full);
                File.Delete(full + BackupSuffix);
                File.Delete(full + TempSuffix);
                folders.Add(folder);
                emptied.Add(folder);
            }
        }

        foreach (var folder in folders)
        {
            NativeMethods.FsyncDirectory(folder);
        }

        // A workflow's folder, or a namespace's, goes once its last file has.
        foreach (var folder in emptied)
        {
            RemoveIfEmpty(folder);
        }
    }

    private void RemoveIfEmpty(string folder)
    {
        var current = folder;
        while (current.Length > _root.Length && Directory.Exists(current) && !Directory.EnumerateFileSystemEntries(current).Any())
        {
            Directory.Delete(current);
            var parent = Path.GetDirectoryName(current)!;
            NativeMethods.FsyncDirectory(parent);
            if (Path.GetFileName(parent) is "workflows" or "kv")
            {
                break;
            }

            current = parent;
        }
    }

    /// <summary>Temporary file, fsync, keep the current file as <c>.bak</c> (its last good copy), rename into place.</summary>
    private static void WriteFile(string full, byte[] data, bool keepBackup)
    {
        var temp = full + TempSuffix;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
        {
            stream.Write(data);
            stream.Flush(flushToDisk: true);
        }

        if (keepBackup && File.Exists(full))
        {
            File.Move(full, full + BackupSuffix, overwrite: true);
        }

        File.Move(temp, full, overwrite: true);
    }

    private static byte[] SerializeIntent(IReadOnlyList<FileOperation> operations)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("operations");
            foreach (var operation in operations)
            {
                writer.WriteStartObject();
                writer.WriteString("path", operation.Path);
                if (operation.Data is { } data)
                {
                    writer.WriteBase64String("data", data);
                }
                else
                {
                    writer.WriteBoolean("delete", true);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static List<FileOperation> ParseIntent(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var operations = new List<FileOperation>();
        foreach (var element in document.RootElement.GetProperty("operations").EnumerateArray())
        {
            var path = element.GetProperty("path").GetString() ?? throw new JsonException("An operation has no path.");
            if (path.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(path))
            {
                throw new JsonException($"The operation path '{path}' leaves the store's root.");
            }

            operations.Add(new FileOperation(path, element.TryGetProperty("data", out var data) ? data.GetBytesFromBase64() : null));
        }

        return operations;
    }
}
