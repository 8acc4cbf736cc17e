namespace Fwmark.Linux.NfTables;

/// <summary>
/// The kernel refused a batch because the ruleset generation moved on after the plan was read
/// (another writer committed in between: one that does not hold our lock). Nothing was applied.
/// </summary>
internal sealed class NftGenerationChangedException(NftTable table, uint generation)
    : Exception($"the nftables ruleset changed while a transaction on table {table} was being planned (planned on generation {generation})")
{
    public uint Generation { get; } = generation;
}
