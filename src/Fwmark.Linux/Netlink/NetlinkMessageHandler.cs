namespace Fwmark.Linux.Netlink;

/// <summary>Receives each reply message of a request or dump; the message is valid only during the call.</summary>
public delegate void NetlinkMessageHandler(in NetlinkMessage message);
