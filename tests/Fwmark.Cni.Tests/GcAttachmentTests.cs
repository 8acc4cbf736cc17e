using System.Text.Json.Nodes;

namespace Fwmark.Cni.Tests;

/// <summary>GC's keep-list under both spellings libcni has used.</summary>
public class GcAttachmentTests
{
    private static JsonArray List(params (string Id, string If)[] entries) =>
        new([.. entries.Select(e => (JsonNode)new JsonObject { ["containerID"] = e.Id, ["ifname"] = e.If })]);

    private static IReadOnlyList<GcAttachment>? Decode(Action<JsonObject> edit)
    {
        var config = Invocation.Config("1.1.0");
        edit(config);
        var outcome = Invocation.Run(Invocation.Env("GC"), config);
        outcome.AssertSilentSuccess();
        return outcome.Plugin.Single(CniCommand.Gc).ValidAttachments;
    }

    [Fact]
    public void Current_key_is_read()
    {
        var list = Decode(c => c["cni.dev/valid-attachments"] = List(("c1", "eth0"), ("c2", "net1")));

        Assert.Equal([new GcAttachment("c1", "eth0"), new GcAttachment("c2", "net1")], list);
    }

    [Fact]
    public void Legacy_key_is_read()
    {
        var list = Decode(c => c["cni.dev/attachments"] = List(("c3", "eth0")));

        Assert.Equal([new GcAttachment("c3", "eth0")], list);
    }

    [Fact]
    public void Current_key_wins_when_both_are_sent()
    {
        var list = Decode(c =>
        {
            c["cni.dev/attachments"] = List(("old", "eth0"));
            c["cni.dev/valid-attachments"] = List(("new", "eth0"));
        });

        Assert.Equal([new GcAttachment("new", "eth0")], list);
    }

    [Fact]
    public void Neither_key_is_null_not_empty()
    {
        Assert.Null(Decode(_ => { }));
    }

    [Fact]
    public void An_explicit_empty_list_is_empty_not_null()
    {
        var list = Decode(c => c["cni.dev/valid-attachments"] = new JsonArray());

        Assert.NotNull(list);
        Assert.Empty(list);
    }

    [Fact]
    public void Extra_keys_in_an_entry_are_ignored()
    {
        var list = Decode(c => c["cni.dev/valid-attachments"] = new JsonArray(new JsonObject
        {
            ["containerID"] = "c1",
            ["ifname"] = "eth0",
            ["podName"] = "web",
        }));

        Assert.Equal([new GcAttachment("c1", "eth0")], list);
    }

    [Theory]
    [InlineData("cni.dev/valid-attachments", """{"containerID":"c1"}""", "failed to decode network config: cni.dev/valid-attachments: must be an array, got object")]
    [InlineData("cni.dev/attachments", """["c1"]""", "failed to decode network config: cni.dev/attachments[0]: must be an object, got string")]
    [InlineData("cni.dev/valid-attachments", """[{"containerID":"c1"}]""", "failed to decode network config: cni.dev/valid-attachments[0]: needs both \"containerID\" and \"ifname\"")]
    [InlineData("cni.dev/valid-attachments", """[{"containerID":"c1","ifname":0}]""", "failed to decode network config: cni.dev/valid-attachments[0].ifname: must be a string, got number")]
    public void A_list_of_the_wrong_shape_is_code_6(string key, string value, string message)
    {
        var config = Invocation.Config("1.1.0");
        config[key] = JsonNode.Parse(value);

        var outcome = Invocation.Run(Invocation.Env("GC"), config);

        Assert.Equal(message, outcome.ErrorMessage(CniErrorCodes.DecodeFailure));
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Fact]
    public void Other_verbs_ignore_the_keys()
    {
        var config = Invocation.Config("1.1.0");
        config["cni.dev/valid-attachments"] = "not even a list";

        var outcome = Invocation.Run(Invocation.Env("DEL"), config);

        outcome.AssertSilentSuccess();
        Assert.Null(outcome.Plugin.Single(CniCommand.Del).ValidAttachments);
    }
}
