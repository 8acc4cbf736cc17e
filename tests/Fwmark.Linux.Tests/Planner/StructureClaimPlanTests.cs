using System.Net;
using Fwmark.Core;
using Fwmark.Core.Paths;
using Fwmark.Linux.Dataplane;
using Fwmark.Linux.NfTables;

namespace Fwmark.Linux.Tests.Planner;

/// <summary>
/// What the planner does with a structure claim (Dataplane/StructureClaim.cs): a claim that covers the call stands
/// for every structure read and the plan is element changes only; a claim that does not cover it (a new mark, a
/// bridge port where the claim has no bridge table) is ignored. And when a plan may leave a claim behind: only when
/// it found nothing to repair.
/// </summary>
public class StructureClaimPlanTests
{
    private static readonly MarkSpec Vpn = new("vpn", 0x10, 0x10);
    private static readonly MarkSpec Gw2 = new("gw2", 0x888, 0xfff);
    private static readonly AttachmentOwner PodA = new("net1", "container-a", "eth0");
    private static readonly AttachmentOwner PodB = new("net1", "container-b", "eth0");

    [Fact]
    public void A_covering_claim_stands_for_the_structure_reads_and_the_plan_is_the_element_only()
    {
        var state = FakeNftState.Healthy(Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag);
        state.Claim = ClaimOf(state, bridge: false);

        var plan = NftPlanner.Install(state, PodB, [IPAddress.Parse("10.88.0.6")], Vpn);

        Assert.Equal(0, state.StructureReads);
        Assert.Equal($"add element inet fwmark pods4-mark-00000010-00000010 {{ 10.88.0.6 comment \"{PodB.Tag}\" }}\n", plan.Render());
        Assert.True(plan.KeepsStructure);
        Assert.Equal(state.Claim.SetNames, plan.Verified?.SetNames);
    }

    [Fact]
    public void A_claim_is_taken_on_trust_so_only_the_generation_check_may_hand_one_over()
    {
        // A table broken behind the claim's back (which the generation check rules out in NftDataplane): the plan
        // does not look, which is why a claim must never outlive its generation.
        var state = FakeNftState.Healthy(Vpn);
        state.Claim = ClaimOf(state, bridge: false);
        state.RuleList.Clear();

        var plan = NftPlanner.Install(state, PodB, [IPAddress.Parse("10.88.0.6")], Vpn);

        Assert.True(plan.KeepsStructure);
        state.Claim = null;
        Assert.False(NftPlanner.Install(state, PodB, [IPAddress.Parse("10.88.0.6")], Vpn).KeepsStructure);
    }

    [Fact]
    public void A_claim_without_the_marks_sets_is_ignored_and_the_new_chain_is_built()
    {
        var state = FakeNftState.Healthy(Vpn);
        state.Claim = ClaimOf(state, bridge: false);

        var plan = NftPlanner.Install(state, PodB, [IPAddress.Parse("10.88.0.6")], Gw2);

        Assert.True(state.StructureReads > 0);
        Assert.Contains("add chain inet fwmark mark-00000888-00000fff", plan.Render(), StringComparison.Ordinal);
        Assert.False(plan.KeepsStructure);
        Assert.Null(plan.Verified); // it repaired: no claim until a call finds nothing to repair
    }

    [Fact]
    public void A_claim_without_the_bridge_table_is_ignored_by_a_bridge_port()
    {
        var state = FakeNftState.Healthy(Vpn);
        state.Claim = ClaimOf(state, bridge: false);

        var plan = NftPlanner.Install(state, PodB, new MarkTarget(new AttachmentPath(MarkKeying.BridgePort, "veth2", "test"), [IPAddress.Parse("10.88.0.6")]), Vpn);

        Assert.True(state.StructureReads > 0);
        Assert.Contains("add table bridge fwmark", plan.Render(), StringComparison.Ordinal);
        Assert.Null(plan.Verified);
    }

    [Fact]
    public void A_healthy_table_read_without_a_claim_is_verified_and_a_drifted_one_is_not()
    {
        var healthy = FakeNftState.Healthy(Vpn);
        var verified = NftPlanner.Install(healthy, PodB, [IPAddress.Parse("10.88.0.6")], Vpn);
        Assert.Equal([.. healthy.Sets.Keys], verified.Verified?.SetNames);
        Assert.False(verified.Verified?.Bridge);

        var drifted = FakeNftState.Healthy(Vpn);
        drifted.TableFlags = 1; // dormant
        Assert.Null(NftPlanner.Install(drifted, PodB, [IPAddress.Parse("10.88.0.6")], Vpn).Verified);
    }

    [Fact]
    public void A_del_with_a_claim_reads_no_set_names_and_passes_the_claim_on()
    {
        var state = FakeNftState.Healthy(Vpn).WithElement(Vpn, "10.88.0.5", PodA.Tag);
        state.Claim = ClaimOf(state, bridge: false);

        var plan = NftPlanner.RemoveKeys(state, PodA, new AttachmentKeys([IPAddress.Parse("10.88.0.5")], ["veth1"]));

        Assert.Equal(0, state.StructureReads);
        Assert.Equal("delete element inet fwmark pods4-mark-00000010-00000010 { 10.88.0.5 }\n", plan.Render());
        Assert.NotNull(plan.Verified);
        state.Claim = null;
        Assert.Null(NftPlanner.RemoveKeys(state, PodA, new AttachmentKeys([IPAddress.Parse("10.88.0.5")], [])).Verified); // DEL never verifies by itself
    }

    [Fact]
    public void Element_operations_alone_keep_the_structure_and_nothing_else_does()
    {
        var address = new NftElement("pods4-mark-00000010-00000010", IPAddress.Parse("10.88.0.5"), PodA.Tag);
        var name = new NftNameElement("ifaces-mark-00000010-00000010", "veth1", PodA.Tag);
        NftOperation[] elements =
        [
            new AddElementOp(address), new DeleteElementOp(address), new AddNameElementOp(name), new DeleteNameElementOp(name),
            new Agent.AddElementsOp(address.Set, [address]), new Agent.AddNameElementsOp(name.Set, [name]),
            NftTables.OnBridge(new AddNameElementOp(name)),
        ];
        NftOperation[] structure =
        [
            new AddTableOp(), new AddSetOp(FwmarkRuleset.SetFor(address.Key, Vpn.ChainName)), new FlushChainOp("prerouting"),
            new DeleteChainOp("sneaky"), new DeleteSetOp("pods4-x"), NftTables.OnBridge(new FlushChainOp("prerouting")),
        ];

        Assert.All(elements, op => Assert.False(op.ChangesStructure, op.Description));
        Assert.All(structure, op => Assert.True(op.ChangesStructure, op.Description));
    }

    private static StructureClaim ClaimOf(FakeNftState state, bool bridge) =>
        StructureClaim.Make(1, 7, [.. state.Sets.Keys], bridge);
}
