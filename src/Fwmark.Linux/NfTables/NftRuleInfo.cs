namespace Fwmark.Linux.NfTables;

/// <summary>A rule as read back from the kernel.</summary>
internal sealed record NftRuleInfo(string Chain, ulong Handle, string? Comment, IReadOnlyList<string> ExpressionNames)
{
    public string Fingerprint => MakeFingerprint(Comment, ExpressionNames);

    public static string MakeFingerprint(string? comment, IEnumerable<string> expressionNames) =>
        $"{comment} [{string.Join(' ', expressionNames)}]";
}
