namespace Fwmark.Linux.NfTables;

/// <summary>A chain as the kernel reports it: its hook (null for a regular chain) and its flags.</summary>
internal sealed record NftChainInfo(string Name, NftHook? Hook, uint Flags);

/// <summary>A set as the kernel reports it: flags (NFT_SET_*), key type and length, and whether it is a map.</summary>
internal sealed record NftSetInfo(string Name, uint Flags, uint KeyType, uint KeyLength, bool HasData)
{
    /// <summary>The names of its element expressions (NFTA_SET_EXPR/EXPRESSIONS), e.g. ["counter"]; empty for none.</summary>
    public IReadOnlyList<string> Expressions { get; init; } = [];

    public bool HasCounter => Expressions is ["counter"];
}

/// <summary>Everything of our table but the set elements: what drift detection compares, read in four requests.</summary>
internal sealed record NftTableSnapshot(
    uint? TableFlags,
    IReadOnlyList<NftChainInfo> Chains,
    IReadOnlyList<NftSetInfo> Sets,
    IReadOnlyList<NftRuleInfo> Rules)
{
    public bool TableExists => TableFlags is not null;

    public IEnumerable<string> SetNames => Sets.Select(s => s.Name);
}
