namespace Ratchet.Cli;

/// <summary>The <c>ratchet</c> tool's exit codes (documented in docs/CLI.md).</summary>
internal static class ExitCodes
{
    /// <summary>Done: the workflow completed, or the command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>The workflow failed or was cancelled.</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or input: unknown command or option, invalid workflow file, missing input, unknown id.</summary>
    public const int BadInput = 2;

    /// <summary>The workflow waits for a human (approval) or a signal.</summary>
    public const int Waiting = 3;

    /// <summary>The store cannot be used: unreachable, locked, damaged, or written by a newer Ratchet. Nothing was changed.</summary>
    public const int StoreProblem = 4;

    /// <summary>Secrets cannot be read: no usable master key, not the key they were encrypted under, or damaged ciphertext.</summary>
    public const int KeyProblem = 5;

    /// <summary>Interrupted (Ctrl-C): the workflow is left resumable.</summary>
    public const int Interrupted = 130;
}
