namespace Fwmark.Cni.Tests;

public class CniVersionTests
{
    [Theory]
    [InlineData("0.3.0", 0, 3, 0)]
    [InlineData("1.1.0", 1, 1, 0)]
    [InlineData("10.20.30", 10, 20, 30)]
    public void Parses_three_decimal_parts(string text, int major, int minor, int patch)
    {
        Assert.True(CniVersion.TryParse(text, out var version));
        Assert.Equal(new CniVersion(major, minor, patch), version);
        Assert.Equal(text, version.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1.0")]
    [InlineData("1.0.0.0")]
    [InlineData("1.0.x")]
    [InlineData("+1.0.0")]
    [InlineData("1.0.0-rc1")]
    [InlineData("1..0")]
    [InlineData("9999999999.0.0")]
    public void Refuses_anything_else(string? text)
    {
        Assert.False(CniVersion.TryParse(text, out _));
    }

    [Theory]
    [InlineData("0.3.0", "0.3.1", -1)]
    [InlineData("0.4.0", "0.3.1", 1)]
    [InlineData("0.10.0", "0.9.0", 1)]
    [InlineData("1.0.0", "0.4.0", 1)]
    [InlineData("1.1.0", "1.1.0", 0)]
    public void Compares_numerically_not_as_text(string left, string right, int sign)
    {
        Assert.Equal(sign, Math.Sign(CniVersion.Parse(left).CompareTo(CniVersion.Parse(right))));
    }

    [Fact]
    public void Compare_throws_on_malformed_input()
    {
        Assert.Throws<FormatException>(() => CniVersion.Parse("1.0").CompareTo(CniVersion.Parse("1.0.0")));
    }

    [Theory]
    [InlineData(CniCommand.Add, null)]
    [InlineData(CniCommand.Del, null)]
    [InlineData(CniCommand.Check, "0.4.0")]
    [InlineData(CniCommand.Gc, "1.1.0")]
    [InlineData(CniCommand.Status, "1.1.0")]
    public void Gating_minimums(CniCommand command, string? minimum)
    {
        Assert.Equal(minimum, CniVersions.MinimumFor(command)?.ToString());
    }

    [Theory]
    [InlineData("0.3.1", true)]
    [InlineData("1.0.0", true)]
    [InlineData("1.0", false)]
    [InlineData("0.2.0", false)]
    [InlineData("1.1.0 ", false)]
    public void Support_is_an_exact_string_match(string version, bool supported)
    {
        Assert.Equal(supported, CniVersions.IsSupported(version));
    }
}
