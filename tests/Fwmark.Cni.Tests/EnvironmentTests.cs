namespace Fwmark.Cni.Tests;

/// <summary>Which CNI_* variables each verb needs, and the identifier rules (code 4, naming the variable).</summary>
public class EnvironmentTests
{
    public static TheoryData<string, string> RequiredPerVerb => new()
    {
        { "ADD", "CNI_CONTAINERID" }, { "ADD", "CNI_NETNS" }, { "ADD", "CNI_IFNAME" },
        { "CHECK", "CNI_CONTAINERID" }, { "CHECK", "CNI_NETNS" }, { "CHECK", "CNI_IFNAME" },
        { "DEL", "CNI_CONTAINERID" }, { "DEL", "CNI_IFNAME" },
    };

    [Theory]
    [MemberData(nameof(RequiredPerVerb))]
    public void Each_required_variable_is_named_when_missing(string verb, string variable)
    {
        var env = Invocation.Env(verb);
        env.Remove(variable);

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0", Fixtures.Node(Fixtures.PodmanPrevResult040)));

        Assert.Equal($"failed to read CNI environment: missing {variable}", outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Theory]
    [MemberData(nameof(RequiredPerVerb))]
    public void An_empty_value_counts_as_missing(string verb, string variable)
    {
        var env = Invocation.Env(verb);
        env[variable] = "";

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        Assert.Equal($"failed to read CNI environment: missing {variable}", outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
    }

    [Fact]
    public void All_missing_variables_are_named_together()
    {
        var env = new Dictionary<string, string?> { ["CNI_COMMAND"] = "ADD", ["CNI_NETNS"] = null };

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        Assert.Equal(
            "failed to read CNI environment: missing CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME",
            outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
    }

    [Fact]
    public void Missing_and_invalid_variables_are_reported_together()
    {
        var env = Invocation.Env("CHECK");
        env.Remove("CNI_NETNS");
        env["CNI_IFNAME"] = "eth0:1";

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        Assert.Equal(
            "failed to read CNI environment: missing CNI_NETNS; CNI_IFNAME \"eth0:1\" is invalid: must not contain '/', ':' or white space",
            outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
    }

    [Fact]
    public void Environment_errors_win_over_stdin_errors_and_still_use_the_request_version()
    {
        var env = Invocation.Env("ADD");
        env.Remove("CNI_IFNAME");
        var config = Invocation.Config("0.4.0");
        config.Remove("name");

        var error = Invocation.Run(env, config).AssertError(CniErrorCodes.InvalidEnvironment);

        Assert.Equal("0.4.0", (string)error["cniVersion"]!);
    }

    [Fact]
    public void Del_accepts_an_empty_netns()
    {
        var env = Invocation.Env("DEL");
        env["CNI_NETNS"] = "";

        var outcome = Invocation.Run(env, Invocation.Config("1.0.0"));

        outcome.AssertSilentSuccess();
        Assert.Equal("", outcome.Plugin.Single(CniCommand.Del).Netns);
    }

    [Theory]
    [InlineData("GC")]
    [InlineData("STATUS")]
    public void Gc_and_status_need_no_attachment_and_ignore_one_that_is_given(string verb)
    {
        var env = new Dictionary<string, string?> { ["CNI_COMMAND"] = verb, ["CNI_CONTAINERID"] = "c1", ["CNI_IFNAME"] = "bad/name" };

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        outcome.AssertSilentSuccess();
        var request = outcome.Plugin.Single(Enum.Parse<CniCommand>(verb, ignoreCase: true));
        Assert.Equal(("", "", ""), (request.ContainerId, request.Netns, request.IfName));
    }

    [Fact]
    public void Cni_path_is_not_required()
    {
        var env = Invocation.Env("ADD");
        env.Remove("CNI_PATH");

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0", Fixtures.Node(Fixtures.PodmanPrevResult040)));

        Assert.Equal(0, outcome.ExitCode);
    }

    [Fact]
    public void Missing_command_is_named()
    {
        var env = Invocation.Env("ADD");
        env.Remove("CNI_COMMAND");

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        Assert.Equal("failed to read CNI environment: missing CNI_COMMAND", outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
    }

    [Theory]
    [InlineData("add")]
    [InlineData("UPDATE")]
    [InlineData("ADD ")]
    public void Unknown_command_is_named(string verb)
    {
        var env = Invocation.Env("ADD");
        env["CNI_COMMAND"] = verb;

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        Assert.Equal($"failed to read CNI environment: unknown CNI_COMMAND \"{verb}\"", outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
        Assert.Empty(outcome.Plugin.Calls);
    }

    [Theory]
    [InlineData("-leading-dash", "must start with a letter or digit")]
    [InlineData(".hidden", "must start with a letter or digit")]
    [InlineData("has space", "may only contain letters, digits, '_', '.' and '-'")]
    [InlineData("a/b", "may only contain letters, digits, '_', '.' and '-'")]
    [InlineData("caf\u00e9", "may only contain letters, digits, '_', '.' and '-'")]
    [InlineData("x;y", "may only contain letters, digits, '_', '.' and '-'")]
    public void Invalid_container_id_is_refused_on_add_and_check(string containerId, string why)
    {
        foreach (var verb in new[] { "ADD", "CHECK" })
        {
            var env = Invocation.Env(verb);
            env["CNI_CONTAINERID"] = containerId;

            var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

            Assert.Equal(
                $"failed to read CNI environment: CNI_CONTAINERID \"{containerId}\" is invalid: {why}",
                outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
        }
    }

    [Theory]
    [InlineData("eth0/1", "must not contain '/', ':' or white space")]
    [InlineData("eth0:1", "must not contain '/', ':' or white space")]
    [InlineData("eth 0", "must not contain '/', ':' or white space")]
    [InlineData("eth\t0", "must not contain '/', ':' or white space")]
    [InlineData(".", "must not be '.' or '..'")]
    [InlineData("..", "must not be '.' or '..'")]
    [InlineData("sixteen-chars-xx", "is longer than 15 bytes")]
    [InlineData("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9", "is longer than 15 bytes")]
    public void Invalid_ifname_is_refused_on_add_and_check(string ifName, string why)
    {
        foreach (var verb in new[] { "ADD", "CHECK" })
        {
            var env = Invocation.Env(verb);
            env["CNI_IFNAME"] = ifName;

            var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

            Assert.Equal(
                $"failed to read CNI environment: CNI_IFNAME \"{ifName}\" is invalid: {why}",
                outcome.ErrorMessage(CniErrorCodes.InvalidEnvironment));
        }
    }

    [Theory]
    [InlineData("a", "e")]
    [InlineData("0_.-Z", "fifteen-chars-x")]
    [InlineData("267346f9a6097af014f8321cae17ff503c2162d2e24e5281c88e38c0719ac0a9", "net1")]
    public void Valid_identifiers_reach_the_plugin_unchanged(string containerId, string ifName)
    {
        var env = Invocation.Env("ADD");
        env["CNI_CONTAINERID"] = containerId;
        env["CNI_IFNAME"] = ifName;

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0", Fixtures.Node(Fixtures.PodmanPrevResult040)));

        var request = outcome.Plugin.Single(CniCommand.Add);
        Assert.Equal((containerId, ifName, Invocation.Netns), (request.ContainerId, request.IfName, request.Netns));
    }

    [Fact]
    public void Del_does_not_validate_identifiers_so_teardown_is_never_blocked()
    {
        var env = Invocation.Env("DEL");
        env["CNI_CONTAINERID"] = "odd id/with slash";
        env["CNI_IFNAME"] = "a-very-long-interface-name";

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0"));

        outcome.AssertSilentSuccess();
        Assert.Equal("odd id/with slash", outcome.Plugin.Single(CniCommand.Del).ContainerId);
    }

    [Fact]
    public void Unknown_environment_variables_are_ignored()
    {
        var env = Invocation.Env("ADD");
        env["TRACEPARENT"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        env["CNI_NETNS_OVERRIDE"] = "1";

        var outcome = Invocation.Run(env, Invocation.Config("1.1.0", Fixtures.Node(Fixtures.PodmanPrevResult040)));

        Assert.Equal(0, outcome.ExitCode);
    }
}
