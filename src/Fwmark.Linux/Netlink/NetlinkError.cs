namespace Fwmark.Linux.Netlink;

/// <summary>
/// The content of an NLMSG_ERROR (or a failed NLMSG_DONE): <see cref="Errno"/> 0 is a positive ACK.
/// <see cref="Sequence"/> is the sequence number of the request it answers, so a batch can tell
/// which of its messages failed. The rest comes from extended ACK (NETLINK_EXT_ACK).
/// </summary>
/// <param name="Errno">Positive errno, 0 for success.</param>
/// <param name="Sequence">nlmsg_seq of the request this answers.</param>
/// <param name="Message">Kernel's human-readable reason (NLMSGERR_ATTR_MSG), often absent.</param>
/// <param name="BadAttributeOffset">Byte offset of the offending attribute inside the request (NLMSGERR_ATTR_OFFS).</param>
/// <param name="MissingAttributeType">Type of a required attribute that was absent (NLMSGERR_ATTR_MISS_TYPE).</param>
public sealed record NetlinkError(int Errno, uint Sequence, string? Message, uint? BadAttributeOffset, uint? MissingAttributeType)
{
    public bool IsAck => Errno == 0;
}
