using System.Text.Json.Nodes;

namespace Fwmark.Cni.Tests;

/// <summary>Every verb at every spec version: who gets called, what is printed, which versions are refused.</summary>
public class VerbMatrixTests
{
    private static readonly string[] Verbs = ["ADD", "DEL", "CHECK", "GC", "STATUS"];

    /// <summary>Written out here rather than read from CniVersions, so the test notices a change to the list.</summary>
    private static readonly string[] Supported = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    /// <summary>Well-formed versions we do not speak; the error echoes them.</summary>
    private static readonly string[] Unsupported = ["0.1.0", "0.2.0", "1.2.0", "2.0.0", "0.3.2"];

    /// <summary>Not versions at all; the error falls back to 1.1.0.</summary>
    private static readonly string[] Malformed = ["1.0", "v1.0.0", "banana", "1.0.0-rc1", " 1.0.0"];

    public static TheoryData<string, string> VerbBySupportedVersion => Cross(Verbs, Supported);

    public static TheoryData<string, string> VerbByUnsupportedVersion => Cross(Verbs, Unsupported);

    public static TheoryData<string, string> VerbByMalformedVersion => Cross(Verbs, Malformed);

    public static TheoryData<string> AllVersions => [.. Supported, .. Unsupported, .. Malformed];

    [Fact]
    public void The_supported_list_is_the_five_chaining_versions_in_order() =>
        Assert.Equal(Supported, CniVersions.Supported);

    [Theory]
    [MemberData(nameof(VerbBySupportedVersion))]
    public void Supported_version_runs_the_verb_unless_gated(string verb, string version)
    {
        var prev = Fixtures.Node(Fixtures.PodmanPrevResult040);
        var outcome = Invocation.Run(Invocation.Env(verb), Invocation.Config(version, verb is "ADD" or "DEL" or "CHECK" ? prev : null));

        var gated = (verb == "CHECK" && version is "0.3.0" or "0.3.1")
            || (verb is "GC" or "STATUS" && version != "1.1.0");
        if (gated)
        {
            var error = outcome.AssertError(CniErrorCodes.IncompatibleVersion);
            Assert.Equal(version, (string)error["cniVersion"]!);
            var minimum = verb == "CHECK" ? "0.4.0" : "1.1.0";
            Assert.Equal($"incompatible CNI versions: {verb} needs cniVersion {minimum} or later, config is \"{version}\"", (string)error["msg"]!);
            Assert.Empty(outcome.Plugin.Calls);
            return;
        }

        var request = outcome.Plugin.Single(Enum.Parse<CniCommand>(verb, ignoreCase: true));
        Assert.Equal(version, request.CniVersion);
        Assert.Equal(Invocation.Network, request.NetworkName);
        if (verb == "ADD")
        {
            Assert.Equal(0, outcome.ExitCode);
            var printed = outcome.StdoutJson;
            Assert.Equal(version, (string)printed["cniVersion"]!);
            Assert.Equal(2, printed["ips"]!.AsArray().Count);
        }
        else
        {
            outcome.AssertSilentSuccess();
        }
    }

    [Theory]
    [MemberData(nameof(VerbByUnsupportedVersion))]
    public void Unsupported_version_is_refused_naming_it_and_the_supported_ones(string verb, string version)
    {
        var outcome = Invocation.Run(Invocation.Env(verb), Invocation.Config(version));

        var error = outcome.AssertError(CniErrorCodes.IncompatibleVersion);
        Assert.Equal(
            $"incompatible CNI versions: config is \"{version}\", plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
            (string)error["msg"]!);
        Assert.Equal(version, (string)error["cniVersion"]!);
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Theory]
    [MemberData(nameof(VerbByMalformedVersion))]
    public void Malformed_version_is_refused_and_the_error_speaks_the_latest_version(string verb, string version)
    {
        var outcome = Invocation.Run(Invocation.Env(verb), Invocation.Config(version));

        var error = outcome.AssertError(CniErrorCodes.IncompatibleVersion);
        Assert.Equal("1.1.0", (string)error["cniVersion"]!);
        Assert.Contains($"config is \"{version}\"", (string)error["msg"]!);
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Theory]
    [InlineData("ADD")]
    [InlineData("DEL")]
    [InlineData("GC")]
    public void Missing_cni_version_reads_as_010_and_is_refused(string verb)
    {
        var outcome = Invocation.Run(Invocation.Env(verb), Invocation.Config(version: null));

        var error = outcome.AssertError(CniErrorCodes.IncompatibleVersion);
        Assert.Equal(
            "incompatible CNI versions: config has no cniVersion (read as \"0.1.0\"), plugin supports 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0",
            (string)error["msg"]!);
        Assert.Equal("1.1.0", (string)error["cniVersion"]!);
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Fact]
    public void A_cni_version_that_is_not_a_string_is_a_decode_failure()
    {
        var config = Invocation.Config("1.0.0");
        config["cniVersion"] = 1;

        var outcome = Invocation.Run(Invocation.Env("ADD"), config);

        Assert.Equal("failed to decode network config: cniVersion: must be a string, got number", outcome.ErrorMessage(CniErrorCodes.DecodeFailure));
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public void Version_verb_echoes_a_well_formed_config_version_and_lists_the_supported_ones(string version)
    {
        var outcome = Invocation.Run(new Dictionary<string, string?> { ["CNI_COMMAND"] = "VERSION" }, new JsonObject { ["cniVersion"] = version });

        var echoed = Supported.Contains(version) || Unsupported.Contains(version) ? version : "1.1.0";
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(
            $$"""{"cniVersion":"{{echoed}}","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}""" + "\n",
            outcome.Stdout);
        Assert.Empty(outcome.Plugin.Calls);
    }

    private static TheoryData<string, string> Cross(string[] verbs, string[] versions)
    {
        var data = new TheoryData<string, string>();
        foreach (var verb in verbs)
        {
            foreach (var version in versions)
            {
                data.Add(verb, version);
            }
        }

        return data;
    }
}
