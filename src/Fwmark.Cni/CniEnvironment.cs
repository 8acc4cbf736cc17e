using System.Collections;

namespace Fwmark.Cni;

/// <summary>
/// The CNI_* variables and which of them each verb needs (the CNI spec, "Parameters").
/// CNI_PATH is deliberately not required: runtimes always set it, but fwmark never execs another
/// plugin, so refusing a call for lack of it would only turn a harmless omission into a failure.
/// </summary>
public static class CniEnvironment
{
    public const string Command = "CNI_COMMAND";
    public const string ContainerId = "CNI_CONTAINERID";
    public const string Netns = "CNI_NETNS";
    public const string IfName = "CNI_IFNAME";
    public const string Args = "CNI_ARGS";

    /// <summary>The current process environment in the shape <see cref="CniDispatcher.Run"/> takes.</summary>
    public static IReadOnlyDictionary<string, string?> FromProcess()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            env[(string)entry.Key] = entry.Value as string;
        }

        return env;
    }

    /// <summary>The verb as it appears in CNI_COMMAND.</summary>
    public static string VerbOf(CniCommand command) => command switch
    {
        CniCommand.Add => "ADD",
        CniCommand.Del => "DEL",
        CniCommand.Check => "CHECK",
        CniCommand.Gc => "GC",
        CniCommand.Status => "STATUS",
        CniCommand.Version => "VERSION",
        _ => throw new ArgumentOutOfRangeException(nameof(command), command, null),
    };

    /// <summary>CNI_COMMAND; verbs are upper case in the spec and matched exactly, as skel does.</summary>
    internal static CniCommand ReadCommand(IReadOnlyDictionary<string, string?> env)
    {
        var verb = Get(env, Command);
        if (verb.Length == 0)
        {
            throw Invalid($"missing {Command}");
        }

        foreach (var command in Enum.GetValues<CniCommand>())
        {
            if (VerbOf(command) == verb)
            {
                return command;
            }
        }

        throw Invalid($"unknown {Command} \"{verb}\"");
    }

    /// <summary>
    /// Reads the attachment variables <paramref name="command"/> needs and reports every missing or
    /// invalid one in a single code-4 error. GC and STATUS concern no attachment: whatever the runtime
    /// put there is ignored.
    /// </summary>
    internal static AttachmentEnv ReadAttachment(CniCommand command, IReadOnlyDictionary<string, string?> env)
    {
        if (command is CniCommand.Gc or CniCommand.Status or CniCommand.Version)
        {
            return new AttachmentEnv("", "", "");
        }

        var containerId = Get(env, ContainerId);
        var netns = Get(env, Netns);
        var ifName = Get(env, IfName);

        var missing = new List<string>();
        var problems = new List<string>();
        Require(ContainerId, containerId);
        // DEL must work after the container's netns is gone (containerd's RemovePodSandbox sends "").
        if (command != CniCommand.Del)
        {
            Require(Netns, netns);
        }

        Require(IfName, ifName);

        // DEL only needs the values to find what ADD created; rejecting an odd one there would block the
        // teardown of the whole chain, so only ADD and CHECK validate.
        if (command != CniCommand.Del)
        {
            Validate(ContainerId, containerId, CniNames.IdentifierProblem);
            Validate(IfName, ifName, CniNames.IfNameProblem);
        }

        if (missing.Count > 0)
        {
            problems.Insert(0, $"missing {string.Join(", ", missing)}");
        }

        return problems.Count == 0 ? new AttachmentEnv(containerId, netns, ifName) : throw Invalid(string.Join("; ", problems));

        void Require(string name, string value)
        {
            if (value.Length == 0)
            {
                missing.Add(name);
            }
        }

        void Validate(string name, string value, Func<string, string?> rule)
        {
            if (value.Length > 0 && rule(value) is { } problem)
            {
                problems.Add($"{name} \"{value}\" is invalid: {problem}");
            }
        }
    }

    private static string Get(IReadOnlyDictionary<string, string?> env, string name) =>
        env.TryGetValue(name, out var value) ? value ?? "" : "";

    private static CniException Invalid(string cause) =>
        new(CniErrorCodes.InvalidEnvironment, $"failed to read CNI environment: {cause}");
}

/// <summary>The per-attachment variables, validated for the verb.</summary>
internal sealed record AttachmentEnv(string ContainerId, string Netns, string IfName);
