namespace Fwmark.Linux.NfTables;

/// <summary>A rule as read back from the kernel: where it is, its comment and its decoded expressions.</summary>
internal sealed record NftRuleInfo(string Chain, ulong Handle, string? Comment, IReadOnlyList<NftExpressionShape> Expressions)
{
    /// <summary>Comment plus every expression with its operands: equal exactly when the rule does the same.</summary>
    public string Fingerprint => MakeFingerprint(Comment, Expressions);

    public static string MakeFingerprint(string? comment, IEnumerable<NftExpressionShape> expressions) =>
        $"{comment} [{string.Join(' ', expressions)}]";
}
