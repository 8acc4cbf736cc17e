using Fwmark.Linux.Dataplane;

namespace Fwmark.Linux.Tests.Planner;

/// <summary>
/// The claim file: a reader accepts a claim only whole, unaltered, and for this build, its namespace and the
/// generation it reads; anything else is a miss (the call then reads everything), never an error.
/// </summary>
public sealed class StructureClaimFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("fwmark-claim-").FullName;

    private static readonly StructureClaim Claim = StructureClaim.Make(
        4242, 17, ["pods4-mark-00000010-00000010", "pods6-mark-00000010-00000010", "ifaces-mark-00000010-00000010"], bridge: true);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_written_claim_is_found_for_its_namespace_and_generation_only()
    {
        var file = new StructureClaimFile(_directory);
        file.Write(Claim);

        var found = file.Find(4242, 17);
        Assert.NotNull(found);
        Assert.Equal(Claim.SetNames, found.SetNames);
        Assert.True(found.Bridge);
        Assert.Null(file.Find(4242, 18)); // anything committed since
        Assert.Null(file.Find(4243, 17)); // another namespace
        Assert.Null(file.Find(null, 17)); // a kernel without namespace cookies: never a claim
    }

    [Fact]
    public void Another_builds_or_another_boots_claim_is_not_this_ones()
    {
        Assert.True(StructureClaim.Usable); // this build has module version IDs and the kernel a boot ID
        var file = new StructureClaimFile(_directory);
        file.Write(Claim with { Build = Guid.NewGuid() });
        Assert.Null(file.Find(4242, 17));

        // A state directory on a disk keeps the file across a reboot, where the cookie and generation repeat.
        file.Write(Claim with { Boot = Guid.NewGuid() });
        Assert.Null(file.Find(4242, 17));
    }

    [Fact]
    public void The_file_is_the_owners_only()
    {
        var file = new StructureClaimFile(_directory);
        file.Write(Claim);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file.Path));
    }

    [Theory]
    [InlineData("no-bridge", "bridge")] // a changed field: the checksum no longer matches
    [InlineData("pods4-mark-00000010-00000010,", "")] // a set name gone
    [InlineData("\n", "")] // cut before its end
    public void An_altered_or_torn_claim_is_a_miss(string from, string to)
    {
        var text = (Claim with { Bridge = false }).Format();
        Assert.NotNull(StructureClaim.Parse(text));
        var path = Path.Combine(_directory, StructureClaimFile.FileName);
        File.WriteAllText(path, ReplaceFirst(text, from, to));

        Assert.Null(new StructureClaimFile(_directory).Find(4242, 17));
    }

    [Fact]
    public void A_shorter_claim_over_a_longer_one_reads_as_itself()
    {
        var file = new StructureClaimFile(_directory);
        file.Write(Claim with { SetNames = [.. Claim.SetNames, "pods4-mark-00000888-00000fff", "pods6-mark-00000888-00000fff"] });
        file.Write(Claim);

        Assert.Equal(Claim.SetNames, file.Find(4242, 17)?.SetNames);
    }

    [Fact]
    public void Next_is_one_generation_later_and_none_where_the_counter_wraps()
    {
        Assert.Equal(18u, Claim.Next()?.Generation);
        Assert.Null((Claim with { Generation = uint.MaxValue }).Next());
    }

    [Fact]
    public void A_missing_directory_is_a_miss_and_writing_there_is_not_an_error()
    {
        var file = new StructureClaimFile(Path.Combine(_directory, "absent"));
        file.Write(Claim);

        Assert.Null(file.Find(4242, 17));
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0, $"\"{from}\" is not in \"{text}\"");
        return text[..at] + to + text[(at + from.Length)..];
    }
}
