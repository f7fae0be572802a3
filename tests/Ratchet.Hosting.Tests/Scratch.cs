using Microsoft.Data.Sqlite;

namespace Ratchet.Hosting.Tests;

/// <summary>A temporary directory for one test's workflow files, scripts and store, deleted at the end.</summary>
internal sealed class Scratch : IDisposable
{
    public Scratch()
    {
        Path = Directory.CreateTempSubdirectory("ratchet-hosting-test-").FullName;
    }

    public string Path { get; }

    /// <summary>The URI of the test's SQLite store.</summary>
    public string Store => "sqlite:" + File("state/ratchet.db");

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> (folders created) and returns the full path.</summary>
    public string Write(string name, string text)
    {
        var path = File(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(Path, recursive: true);
    }
}
