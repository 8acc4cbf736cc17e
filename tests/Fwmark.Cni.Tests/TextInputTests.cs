using System.Text;

namespace Fwmark.Cni.Tests;

/// <summary>
/// Issue 8 ("also found"): strings the JSON reader accepts but that are not text, JSON syntax errors in
/// words, and long values cut. On main the first two reached the plugin (which programmed the kernel) and
/// then failed with code 999 when the result was written.
/// </summary>
public class TextInputTests
{
    private const string PrevResultTemplate = """
        {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0", "mac": "MAC", "sandbox": "/var/run/netns/p"}],
         "ips": [{"address": "10.88.0.2/24", "interface": 0}]}
        """;

    private static byte[] Stdin(string macJson)
    {
        var prev = PrevResultTemplate.Replace("\"MAC\"", macJson, StringComparison.Ordinal);
        var text = """{"cniVersion": "1.0.0", "name": "steered", "type": "fwmark", "marks": {"vpn": {"mark": 16}}, "prevResult": """ + prev + "}";
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>Puts raw bytes (invalid UTF-8) inside the mac string.</summary>
    private static byte[] WithRawBytes(params byte[] raw)
    {
        var marker = Stdin("\"@@\"");
        var at = marker.AsSpan().IndexOf("@@"u8);
        return [.. marker[..at], .. raw, .. marker[(at + 2)..]];
    }

    public static TheoryData<string, byte[]> NotText => new()
    {
        { "lone high surrogate escape", Stdin("\"\\ud800\"") },
        { "lone low surrogate escape", Stdin("\"ab\\udc00cd\"") },
        { "invalid UTF-8 byte", WithRawBytes(0xff) },
        { "truncated UTF-8 sequence", WithRawBytes(0xe2, 0x82) },
        { "overlong UTF-8 encoding", WithRawBytes(0xc0, 0xaf) },
    };

    [Theory]
    [MemberData(nameof(NotText))]
    public void A_prev_result_string_that_is_not_text_is_code_6_before_the_plugin_runs(string kind, byte[] stdin)
    {
        foreach (var verb in new[] { "ADD", "CHECK" })
        {
            var outcome = Invocation.Run(Invocation.Env(verb), new MemoryStream(stdin));

            var message = outcome.ErrorMessage(CniErrorCodes.DecodeFailure);
            Assert.True(message.Contains("prevResult.interfaces[0].mac", StringComparison.Ordinal), $"{kind} ({verb}): {message}");
            Assert.Empty(outcome.Plugin.Calls);
            Assert.DoesNotContain("Transcode", message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(NotText))]
    public void Del_drops_a_prev_result_that_is_not_text_and_still_runs(string kind, byte[] stdin)
    {
        var outcome = Invocation.Run(Invocation.Env("DEL"), new MemoryStream(stdin));

        Assert.True(outcome.ExitCode == 0, $"{kind}: {outcome.Stdout}");
        Assert.Null(outcome.Plugin.Single(CniCommand.Del).PrevResult);
    }

    [Fact]
    public void A_lone_surrogate_in_a_key_is_code_6()
    {
        var stdin = """{"cniVersion": "1.0.0", "name": "steered", "type": "fwmark", "marks": {"vpn": {"mark": 16}}, "x\ud800": 1}""";

        var outcome = Invocation.Run(Invocation.Env("ADD"), stdin);

        Assert.True(outcome.ExitCode == 1 && outcome.Stdout.Contains("\"code\":6", StringComparison.Ordinal), outcome.Stdout + outcome.Stderr);
        Assert.Contains("a key holds invalid UTF-8 or a lone UTF-16 surrogate", outcome.ErrorMessage(CniErrorCodes.DecodeFailure), StringComparison.Ordinal);
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Theory]
    [InlineData("{\"cniVersion\": \"1.0.0\",\n  \"name\" \"x\"}", "line 2, byte 10")]
    [InlineData("{\"cniVersion\": \"1.0.0\", \"name\": \"x\",}", "line 1, byte 37")]
    [InlineData("{\"a\": [1, 2}", "line 1, byte 12")]
    public void A_json_syntax_error_says_where_in_words(string stdin, string where)
    {
        var message = Invocation.Run(Invocation.Env("ADD"), stdin).ErrorMessage(CniErrorCodes.DecodeFailure);

        Assert.Contains($"({where})", message, StringComparison.Ordinal);
        Assert.StartsWith("failed to decode network config: stdin is not valid JSON: ", message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", message, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_too_deep_is_a_sentence_not_a_resource_key()
    {
        var stdin = $$"""{"cniVersion": "1.0.0", "name": "x", "deep": {{new string('[', 100)}}{{new string(']', 100)}}}""";

        var message = Invocation.Run(Invocation.Env("ADD"), stdin).ErrorMessage(CniErrorCodes.DecodeFailure);

        Assert.DoesNotContain("ArrayDepthTooLarge", message, StringComparison.Ordinal);
        Assert.Matches(@"\(line 1, byte \d+\)", message);
    }

    [Theory]
    [InlineData("ArrayDepthTooLarge, 64", true)]
    [InlineData("IO_FileExists_Name", true)]
    [InlineData("CannotTranscodeInvalidUtf8", true)]
    [InlineData("'}' is invalid after a value", false)]
    [InlineData("Expected depth to be zero at the end of the JSON payload", false)]
    public void Resource_keys_are_recognised(string message, bool isKey) => Assert.Equal(isKey, JsonProblem.IsResourceKey(message));

    [Fact]
    public void An_error_message_quoting_a_huge_value_is_cut()
    {
        var huge = new string('x', 1 << 20);
        var plugin = new FakePlugin { OnCall = _ => throw new CniException(CniErrorCodes.InvalidNetworkConfig, $"unknown mark name \"{huge}\"", huge) };

        var outcome = Invocation.Run(Invocation.Env("ADD"), Invocation.Config("1.0.0", System.Text.Json.Nodes.JsonNode.Parse(Fixtures.PodmanPrevResult040)), plugin);

        var error = outcome.AssertError(CniErrorCodes.InvalidNetworkConfig);
        Assert.True(outcome.Stdout.Length < 20_000, $"the error is {outcome.Stdout.Length} bytes");
        Assert.Contains($"({huge.Length + 20} characters)", (string)error["msg"]!, StringComparison.Ordinal);
    }
}
