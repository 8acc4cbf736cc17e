using Fwmark.Cli.Doctor;
using Fwmark.Core.Status;

namespace Fwmark.Cli;

/// <summary>What <c>fwmark status</c> and the agent's /metrics read besides the kernel: the configured marks, and one collector over the node's services.</summary>
public static class StatusSources
{
    /// <summary>The marks of every valid fwmark object in DIR, in libcni's file order; what could not be read, as sentences.</summary>
    public static (List<StatusMark> Marks, List<string> Problems) ReadMarks(string confDir)
    {
        var (files, dirError) = ConfDir.Read(confDir);
        var problems = new List<string>();
        if (dirError is not null)
        {
            problems.Add(dirError);
        }

        var marks = new List<StatusMark>();
        foreach (var file in files)
        {
            var (network, error) = Networks.Parse(file);
            if (network is null)
            {
                problems.Add(error!);
                continue;
            }

            foreach (var entry in Networks.FwmarkEntries(network))
            {
                if (entry.Config is not { } config)
                {
                    problems.Add($"{network.Path}: {entry.Error}");
                    continue;
                }

                marks.AddRange(config.Marks.Values.Select(m => new StatusMark(m, config.Routes.GetValueOrDefault(m.Name))));
            }
        }

        return (marks, problems);
    }

    /// <summary>A collector over <paramref name="services"/> for the marks in <paramref name="confDir"/>, read now.</summary>
    public static StatusCollector Collector(IFwmarkServices services, string confDir, string? runDir = null)
    {
        var (marks, problems) = ReadMarks(confDir);
        return new StatusCollector
        {
            Marking = services.Marking(),
            Node = services.Node(),
            Routing = services.Routing(),
            Records = services.Records(),
            Configured = marks,
            ConfigProblems = problems,
            ConfDir = confDir,
            RunDir = runDir ?? services.RunDir,
        };
    }
}
