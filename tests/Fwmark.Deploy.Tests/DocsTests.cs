using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fwmark.Core.Install;

namespace Fwmark.Deploy.Tests;

/// <summary>
/// What operators copy from the install docs: every --config file shown is one install accepts, every deploy/ file
/// named exists, and the README shows the command that builds both architectures.
/// </summary>
public sealed partial class DocsTests
{
    private static readonly string[] Docs = ["README.md", "install.md", "quickstart-k3s.md", "quickstart-podman.md"];

    [Fact]
    public void Every_config_file_shown_is_accepted_by_install()
    {
        var count = 0;
        foreach (var doc in Docs)
        {
            foreach (Match block in JsonBlock().Matches(Read(doc)))
            {
                if (TryParse(block.Groups[1].Value) is JsonObject { } keys && keys["marks"] is not null && keys["plugins"] is null)
                {
                    FwmarkPluginObject.FromConfigText(block.Groups[1].Value, doc);
                    count++;
                }
            }
        }

        Assert.True(count >= 2, $"expected the config files of both quickstarts, found {count}");
    }

    [Fact]
    public void Every_deploy_file_the_docs_name_exists()
    {
        var named = Docs.SelectMany(d => DeployPath().Matches(Read(d)).Select(m => (Doc: d, Path: m.Value.TrimEnd('.', ',', ')')))).ToList();
        Assert.NotEmpty(named);
        foreach (var (doc, path) in named)
        {
            var local = Path.Join(AppContext.BaseDirectory, path);
            Assert.True(File.Exists(local) || Directory.Exists(local), $"{doc} names {path}, which deploy/ does not have");
        }
    }

    [Fact]
    public void Readme_shows_the_build_of_both_architectures()
    {
        var lines = Read("README.md").Split('\n');
        Assert.Contains(lines, l => l.StartsWith("eng/publish.sh ", StringComparison.Ordinal) && l.Contains("linux-arm64", StringComparison.Ordinal));
    }

    private static JsonNode? TryParse(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Read(string doc) => File.ReadAllText(Path.Join(AppContext.BaseDirectory, "docs", doc));

    [GeneratedRegex("```json\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();

    [GeneratedRegex(@"deploy/[A-Za-z0-9._/-]+")]
    private static partial Regex DeployPath();
}
