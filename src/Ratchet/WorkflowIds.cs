using System.Security.Cryptography;

namespace Ratchet;

/// <summary>Makes new workflow ids. Injectable so that tests can force collisions.</summary>
public interface IWorkflowIdGenerator
{
    /// <summary>Returns a new id; it may collide with an existing one, which callers handle by asking again.</summary>
    string NewId();
}

/// <summary>8 characters of Crockford base32 (40 random bits), e.g. <c>7K3QZ0AM</c>.</summary>
public sealed class CrockfordIdGenerator : IWorkflowIdGenerator
{
    /// <summary>The shared instance, drawing from the operating system's cryptographic random source.</summary>
    public static readonly CrockfordIdGenerator Instance = new();

    /// <inheritdoc />
    public string NewId()
    {
        Span<byte> random = stackalloc byte[5];
        RandomNumberGenerator.Fill(random);
        return WorkflowIds.Encode(random);
    }
}

/// <summary>Rules for workflow ids.</summary>
public static class WorkflowIds
{
    /// <summary>Crockford's base32 alphabet: digits and letters without I, L, O and U.</summary>
    public const string CrockfordAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    /// <summary>The longest id a caller may supply.</summary>
    public const int MaxLength = 64;

    /// <summary>Encodes 5 bytes as 8 Crockford base32 characters.</summary>
    public static string Encode(ReadOnlySpan<byte> fiveBytes)
    {
        if (fiveBytes.Length != 5)
        {
            throw new ArgumentException("An id is made of exactly 5 bytes (40 bits).", nameof(fiveBytes));
        }

        ulong bits = 0;
        foreach (var b in fiveBytes)
        {
            bits = (bits << 8) | b;
        }

        return string.Create(8, bits, static (chars, value) =>
        {
            for (var i = chars.Length - 1; i >= 0; i--)
            {
                chars[i] = CrockfordAlphabet[(int)(value & 31)];
                value >>= 5;
            }
        });
    }

    /// <summary>
    /// Whether <paramref name="id"/> may name a workflow: 1 to 64 ASCII letters, digits, '-', '_' or '.', starting
    /// with a letter or digit. Ids become folder names and command-line arguments, hence the narrow set.
    /// </summary>
    public static bool IsValid(string? id, out string? problem)
    {
        if (string.IsNullOrEmpty(id))
        {
            problem = "A workflow id cannot be empty.";
            return false;
        }

        if (id.Length > MaxLength)
        {
            problem = $"Workflow id '{id[..16]}…' is {id.Length} characters long; the limit is {MaxLength}.";
            return false;
        }

        if (!char.IsAsciiLetterOrDigit(id[0]))
        {
            problem = $"Workflow id '{id}' must start with a letter or a digit.";
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.'))
            {
                problem = $"Workflow id '{id}' contains '{c}'; use only letters, digits, '-', '_' and '.'.";
                return false;
            }
        }

        problem = null;
        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> with a sentence saying what is wrong unless the id is valid.</summary>
    public static void Validate(string? id, string parameterName = "id")
    {
        if (!IsValid(id, out var problem))
        {
            throw new ArgumentException(problem, parameterName);
        }
    }
}
