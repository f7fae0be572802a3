using System.Diagnostics;
using Ratchet.Engine;
using Ratchet.Storage;

namespace Ratchet.Yaml;

/// <summary>
/// Isolated workspaces: a directory per workflow under <see cref="ShellOptions.WorkspacesDirectory"/>, made as a
/// <c>git worktree</c> of the current commit when the workflow file is inside a git repository, recorded in the store
/// with a heartbeat at every node so that a dead run's workspace can be told from a live one.
/// </summary>
internal static class Workspaces
{
    /// <summary>The workflow's workspace, created on first use; null when the file does not ask for isolation.</summary>
    public static async Task<string?> PrepareAsync(WorkflowFile file, NodeContext context, ShellOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        if (file.Workspace != WorkspaceMode.Isolated)
        {
            return null;
        }

        var path = Path.Combine(Path.GetFullPath(options.WorkspacesDirectory), context.WorkflowId);
        var now = context.Clock.GetStoreNow();
        var existing = options.Store is null ? null : await options.Store.GetWorkspaceAsync(context.WorkflowId, cancellationToken);
        if (!Directory.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (await GitTopLevelAsync(file.Directory, cancellationToken) is { } repository)
            {
                await RunGitAsync(repository, cancellationToken, "worktree", "add", "--detach", path, "HEAD");
            }
            else
            {
                Directory.CreateDirectory(path);
            }
        }

        if (options.Store is not null)
        {
            await options.Store.CommitAsync(new ChangeSet().PutWorkspace(new WorkspaceRecord
            {
                WorkflowId = context.WorkflowId,
                Path = path,
                Status = WorkspaceStatus.Active,
                CreatedAt = existing?.CreatedAt ?? now,
                HeartbeatAt = now,
            }), cancellationToken);
        }

        return path;
    }

    /// <summary>Removes a workspace's directory (and its git worktree registration); true if there was one.</summary>
    public static async Task<bool> RemoveAsync(WorkspaceRecord workspace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!Directory.Exists(workspace.Path))
        {
            return false;
        }

        if (File.Exists(Path.Combine(workspace.Path, ".git")) && await GitTopLevelAsync(workspace.Path, cancellationToken) is not null)
        {
            try
            {
                await RunGitAsync(workspace.Path, cancellationToken, "worktree", "remove", "--force", workspace.Path);
            }
            catch (InvalidOperationException)
            {
                // The repository may be gone; the directory is still removed below.
            }
        }

        if (Directory.Exists(workspace.Path))
        {
            Directory.Delete(workspace.Path, recursive: true);
        }

        return true;
    }

    private static async Task<string?> GitTopLevelAsync(string directory, CancellationToken cancellationToken)
    {
        try
        {
            var output = await RunGitAsync(directory, cancellationToken, "rev-parse", "--show-toplevel");
            return output.Trim() is { Length: > 0 } top ? top : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // git is not installed: fall back to a plain directory.
            return null;
        }
    }

    private static async Task<string> RunGitAsync(string directory, CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed in {directory}: {(await error).Trim()}");
    }
}
