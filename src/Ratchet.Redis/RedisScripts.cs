using System.Reflection;

namespace Ratchet.Redis;

/// <summary>The store's Lua scripts, embedded in the assembly, each prefixed with the shared prelude.</summary>
internal static class RedisScripts
{
    public static readonly RedisScript Commit = Load("commit");
    public static readonly RedisScript ClaimDue = Load("claim_due");
    public static readonly RedisScript ClaimOne = Load("claim_one");
    public static readonly RedisScript Lease = Load("lease");
    public static readonly RedisScript List = Load("list");
    public static readonly RedisScript Due = Load("due");
    public static readonly RedisScript Checkpoint = Load("checkpoint");
    public static readonly RedisScript GetCheckpoint = Load("get_checkpoint");
    public static readonly RedisScript Maintenance = Load("maintenance");
    public static readonly RedisScript Export = Load("export");
    public static readonly RedisScript Import = Load("import");
    public static readonly RedisScript Schema = Load("schema");

    private static RedisScript Load(string name) => new(name, Read("prelude") + "\n" + Read(name));

    private static string Read(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Ratchet.Redis.Scripts.{name}.lua")
            ?? throw new InvalidOperationException($"The script '{name}.lua' is missing from the assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
