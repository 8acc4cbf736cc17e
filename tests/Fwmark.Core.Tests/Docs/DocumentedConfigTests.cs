using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Core.Config;

namespace Fwmark.Core.Tests.Docs;

/// <summary>
/// Every complete conflist the README and docs/routing.md show must be one the plugin accepts: an
/// operator copies these, and a documented config that fails ADD would keep their pods from starting.
/// </summary>
public partial class DocumentedConfigTests
{
    public static TheoryData<string, int> Conflists()
    {
        var data = new TheoryData<string, int>();
        foreach (var doc in new[] { "README.md", "routing.md" })
        {
            var blocks = JsonBlock().Matches(Read(doc));
            for (var i = 0; i < blocks.Count; i++)
            {
                if (TryParse(blocks[i].Groups[1].Value) is JsonObject { } root && root["plugins"] is JsonArray)
                {
                    data.Add(doc, i);
                }
            }
        }

        return data;
    }

    [Fact]
    public void The_docs_show_at_least_the_two_use_cases()
    {
        Assert.True(Conflists().Count >= 3, "expected the README's k3s conflist and both docs/routing.md examples");
    }

    [Theory]
    [MemberData(nameof(Conflists))]
    public void Documented_conflist_parses(string doc, int block)
    {
        var text = JsonBlock().Matches(Read(doc))[block].Groups[1].Value;
        var plugins = TryParse(text)!["plugins"]!.AsArray().OfType<JsonObject>().Where(p => (string?)p["type"] == "fwmark").ToList();

        var plugin = Assert.Single(plugins);
        var config = PluginConfigParser.Parse(plugin);
        Assert.NotEmpty(config.Marks);
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null; // a fragment (one key shown on its own), not a whole document
        }
    }

    /// <summary>The build copies README.md and docs/routing.md next to the tests (see the csproj).</summary>
    private static string Read(string doc) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Docs", doc));

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
