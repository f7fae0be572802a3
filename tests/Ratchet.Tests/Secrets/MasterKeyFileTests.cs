using System.Runtime.Versioning;
using Ratchet.Secrets;

namespace Ratchet.Tests.Secrets;

[UnsupportedOSPlatform("windows")]
public sealed class MasterKeyFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ratchet-keys-").FullName;

    private string KeyFile => Path.Combine(_directory, "config", "ratchet", "master.key");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void LoadOrCreate_NoFile_CreatesItOwnerOnlyInAPrivateFolder()
    {
        var ring = MasterKeyFile.LoadOrCreate(KeyFile);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(KeyFile)!));
        Assert.Single(ring.Keys);
        Assert.Equal(ring.Current.Id, MasterKeyFile.LoadOrCreate(KeyFile).Current.Id);
    }

    [Fact]
    public void Load_FileReadableByOthers_RefusedWithTheFix()
    {
        MasterKeyFile.LoadOrCreate(KeyFile);
        File.SetUnixFileMode(KeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Throws<MasterKeyUnavailableException>(() => MasterKeyFile.Load(KeyFile));

        Assert.Equal($"The master key file '{KeyFile}' can be read or written by other users (mode 0644); it must be private to its owner. Run `chmod 600 '{KeyFile}'` and check that no one else has copied it.", error.Message);
    }

    [Fact]
    public void Save_Ring_ReplacesTheFileKeepingOrderAndMode()
    {
        var first = MasterKeyFile.LoadOrCreate(KeyFile);
        var rotated = first.Prepend(MasterKey.Generate());

        MasterKeyFile.Save(KeyFile, rotated);
        var loaded = MasterKeyFile.Load(KeyFile);

        Assert.Equal(rotated.Keys.Select(k => k.Id), loaded.Keys.Select(k => k.Id));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyFile));
        Assert.Equal([Path.GetFileName(KeyFile)], Directory.GetFiles(Path.GetDirectoryName(KeyFile)!).Select(Path.GetFileName));
    }

    [Fact]
    public void SourceLoad_NoKeyAndNoFile_ThrowsWithoutCreatingOne()
    {
        var source = new MasterKeySource { KeyFile = KeyFile };

        var error = Assert.Throws<MasterKeyUnavailableException>(source.Load);

        Assert.Contains($"the key file '{KeyFile}' does not exist", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(KeyFile));
    }

    [Fact]
    public void SourceLoad_DirectKeys_UsesThemAndNoFile()
    {
        var key = MasterKey.Generate();
        var source = new MasterKeySource { Keys = key.ToBase64(), KeyFile = KeyFile };

        Assert.Equal(key.Id, source.LoadOrCreate().Current.Id);
        Assert.False(File.Exists(KeyFile));
    }
}
