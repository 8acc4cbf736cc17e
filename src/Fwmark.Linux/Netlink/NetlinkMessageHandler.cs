namespace Fwmark.Linux.Netlink;

/// <summary>Receives each reply message of a request or dump; the message is valid only during the call.</summary>
public delegate void NetlinkMessageHandler(in NetlinkMessage message);

/// <summary>Writes one dump request with the given sequence number.</summary>
public delegate void NetlinkRequestBuilder(ref NetlinkWriter writer, uint sequence);

/// <summary>Turns one reply message of a dump into items (the message is valid only during the call).</summary>
public delegate void NetlinkReplyReader<T>(in NetlinkMessage message, List<T> into);
