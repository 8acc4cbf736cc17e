using Fwmark.Testbed.Cni;

namespace Fwmark.Demo;

/// <summary>Command line: <c>--fwmark-bin PATH</c> (default: $FWMARK_BIN) and <c>--run-id HEX</c> (default: random).</summary>
internal sealed record DemoOptions(string FwmarkPath, string? RunId)
{
    public static DemoOptions Parse(string[] args)
    {
        string? binary = Environment.GetEnvironmentVariable(FwmarkBinary.EnvironmentVariable);
        string? runId = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"missing value after {args[i]}");
            switch (args[i])
            {
                case "--fwmark-bin":
                    binary = value;
                    break;
                case "--run-id":
                    runId = value.All(char.IsAsciiHexDigitLower) && value.Length == 6 ? value : throw new ArgumentException($"invalid run id {value}: want 6 lower-case hex digits");
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}; usage: Fwmark.Demo [--fwmark-bin PATH] [--run-id HEX6]");
            }

            i++;
        }

        return new DemoOptions(FwmarkBinary.Check(binary), runId);
    }
}
