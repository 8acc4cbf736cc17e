using System.Text.Json.Nodes;
using Fwmark.Testbed.Cni;
using Fwmark.Testbed.Nftables;

namespace Fwmark.E2E.Tests;

/// <summary>
/// Bad input never half-applies: the plugin prints a CNI error with the right code and the node's ruleset
/// is byte-for-byte what it was (compared with <c>nft -s list ruleset</c>). Every case starts from an ADD
/// that would succeed (<see cref="Valid_base_input_installs_elements"/> proves it does) and breaks one thing.
/// The rows share one node (<see cref="BadInputBed"/>), which already holds another pod's elements.
/// </summary>
public sealed class BadInputTests(BadInputBed fixture) : IClassFixture<BadInputBed>
{
    public static TheoryData<string, int, string> Cases => new()
    {
        { "malformed JSON", 6, "" },
        { "marks is a string", 7, "marks" },
        { "mark is a boolean", 7, "mark" },
        { "mark above 32 bits", 7, "mark" },
        { "negative mark", 7, "mark" },
        { "mask zero", 7, "mask" },
        { "mark outside mask", 7, "mask" },
        { "unknown mark name", 7, "vpn" },
        { "missing prevResult", 7, "prevResult" },
        { "unsupported cniVersion", 1, "9.9.9" },
        { "missing CNI_CONTAINERID", 4, "CNI_CONTAINERID" },
        { "missing CNI_NETNS", 4, "CNI_NETNS" },
        { "missing CNI_IFNAME", 4, "CNI_IFNAME" },
        // Issue 8: on main these were accepted (the first then failed with 999 after programming the kernel,
        // the typos exited 0), and the huge annotation came back whole in the error.
        { "lone surrogate in a pass-through prevResult field", 6, "prevResult.interfaces" },
        { "typo rout inside a mark", 7, "marks.vpn.rout" },
        { "typo inside a route", 7, "marks.vpn.route.gatway" },
        { "typo defaultmark at the top", 7, "defaultmark" },
        { "1 MB annotation naming no mark", 7, "unknown mark name" },
    };

    /// <summary>No error a runtime logs should be bigger than this, whatever the input quoted in it.</summary>
    private const int MaxErrorBytes = 20_000;

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_fails_with_the_right_code_and_leaves_the_kernel_unchanged(string @case, int code, string mentions)
    {
        var (env, stdin) = fixture.ValidAdd();
        var text = Break(@case, env, stdin);
        var before = NftOracle.Stateless(fixture.Bed.Node);

        var result = fixture.Bed.Fwmark(fixture.Network.Chain, env, text);

        Assert.Equal(before, NftOracle.Stateless(fixture.Bed.Node));
        Assert.True(result.ExitCode != 0, $"{@case}: exit 0\n{result.Describe()}");
        Assert.True(result.ErrorCode == code, $"{@case}: expected code {code}\n{result.Describe()}");
        var error = result.Json!;
        var message = $"{error["msg"]} {error["details"]}";
        Assert.False(string.IsNullOrWhiteSpace(error["msg"]?.GetValue<string>()), result.Describe());
        Assert.True(message.Contains(mentions, StringComparison.OrdinalIgnoreCase), $"{@case}: message does not mention {mentions}\n{result.Describe()}");
        Assert.True(result.Stdout.Length < MaxErrorBytes, $"{@case}: the error is {result.Stdout.Length} bytes");
        Assert.DoesNotMatch(@"\b[A-Z][a-z]+[A-Z][A-Za-z]*_|\b(IO|Arg|Json)_[A-Za-z]+|TooLarge|CannotTranscode", message);
    }

    [Fact]
    public void Valid_base_input_installs_elements()
    {
        var (env, stdin) = fixture.ValidAdd();
        var before = NftOracle.Stateless(fixture.Bed.Node);

        var add = fixture.Bed.Fwmark(fixture.Network.Chain, env, stdin.ToJsonString());
        try
        {
            Assert.True(add.Succeeded, add.Describe());
            Assert.NotEqual(before, NftOracle.Stateless(fixture.Bed.Node));
            Assert.Single(PluginBed.InterfaceElementsOf(fixture.Bed.Node, fixture.Target));
        }
        finally
        {
            // Leave the shared node as the other rows expect it.
            env["CNI_COMMAND"] = CniChain.Del;
            var del = fixture.Bed.Fwmark(fixture.Network.Chain, env, stdin.ToJsonString());
            Assert.True(del.Succeeded, del.Describe());
        }

        Assert.Equal(before, NftOracle.Stateless(fixture.Bed.Node));
    }

    private static string Break(string @case, Dictionary<string, string?> env, JsonObject stdin)
    {
        var vpn = stdin["marks"]!["vpn"]!.AsObject();
        switch (@case)
        {
            case "malformed JSON":
                var json = stdin.ToJsonString();
                return json[..(json.Length / 2)];
            case "marks is a string":
                stdin["marks"] = "vpn";
                break;
            case "mark is a boolean":
                vpn["mark"] = true;
                break;
            case "mark above 32 bits":
                vpn["mark"] = 4294967296L;
                vpn.Remove("mask");
                break;
            case "negative mark":
                vpn["mark"] = -1;
                vpn.Remove("mask");
                break;
            case "mask zero":
                // mark 0 too, so only the mask rule (not "mark bits outside the mask") can reject it.
                vpn["mark"] = 0;
                vpn["mask"] = 0;
                break;
            case "mark outside mask":
                vpn["mark"] = 0x30;
                vpn["mask"] = 0x10;
                break;
            case "unknown mark name":
                stdin["runtimeConfig"] = new JsonObject { [FwmarkPluginConfig.AnnotationsCapability] = new JsonObject { [FwmarkPluginConfig.NameAnnotation] = "nope" } };
                break;
            case "missing prevResult":
                stdin.Remove("prevResult");
                break;
            case "unsupported cniVersion":
                stdin["cniVersion"] = "9.9.9";
                break;
            case "lone surrogate in a pass-through prevResult field":
                // JSON text, not a JsonObject: the escape must reach the plugin exactly as a runtime could send it.
                var text = stdin.ToJsonString();
                var at = text.IndexOf("\"mac\":\"", StringComparison.Ordinal);
                Assert.True(at > 0, text);
                return text.Insert(at + "\"mac\":\"".Length, "\\ud800");
            case "typo rout inside a mark":
                vpn["rout"] = new JsonObject { ["table"] = 100 };
                break;
            case "typo inside a route":
                vpn["route"] = new JsonObject { ["table"] = 100, ["gatway"] = "192.0.2.1" };
                break;
            case "typo defaultmark at the top":
                stdin["defaultmark"] = "vpn";
                stdin.Remove("runtimeConfig");
                break;
            case "1 MB annotation naming no mark":
                stdin["runtimeConfig"] = new JsonObject { [FwmarkPluginConfig.AnnotationsCapability] = new JsonObject { [FwmarkPluginConfig.NameAnnotation] = new string('v', 1 << 20) } };
                break;
            case "missing CNI_CONTAINERID":
            case "missing CNI_NETNS":
            case "missing CNI_IFNAME":
                env[@case["missing ".Length..]] = null;
                break;
            default:
                throw new ArgumentException($"unknown case {@case}", nameof(@case));
        }

        return stdin.ToJsonString();
    }
}

/// <summary>One node shared by the bad-input rows: a resident annotated pod, and a target pod whose ADD is broken.</summary>
public sealed class BadInputBed : IDisposable
{
    public BadInputBed()
    {
        Bed = PluginBed.Create();
        try
        {
            Network = Bed.Network(FwmarkPluginConfig.Vpn());
            Network.AddPod("resident", FwmarkPluginConfig.Annotated("vpn"));
            // The target went through the chain unannotated, so the plugin installed nothing for it yet.
            Target = Network.AddPod("target");
        }
        catch
        {
            Bed.Dispose();
            throw;
        }
    }

    internal PluginBed Bed { get; }

    internal PodNetwork Network { get; }

    internal Pod Target { get; }

    /// <summary>The environment and stdin of an ADD for the target that selects "vpn" and would succeed.</summary>
    internal (Dictionary<string, string?> Env, JsonObject Stdin) ValidAdd()
    {
        var attachment = Target.Attachment with { CapabilityArgs = FwmarkPluginConfig.Annotated("vpn") };
        return (Network.Chain.Environment(CniChain.Add, attachment), Network.Chain.Stdin("fwmark", attachment, Target.AddResult));
    }

    public void Dispose() => Bed.Dispose();
}
