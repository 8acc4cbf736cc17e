using System.Runtime.InteropServices;
using Fwmark.Linux.Netlink;

namespace Fwmark.Linux.Agent;

/// <summary>
/// Multicast plumbing for the agent's long-lived sockets: joining notification groups, learning the
/// socket's port id (the kernel stamps it into the notifications our own requests cause, which is how
/// the agent ignores its own changes) and waiting on several sockets at once.
/// </summary>
internal static class NetlinkSubscription
{
    /// <summary>NFNLGRP_NFTABLES: every committed nf_tables change (linux/netfilter/nfnetlink.h).</summary>
    public const int NfTablesGroup = 7;

    // enum rtnetlink_groups (linux/rtnetlink.h).
    public const int RtnlLinkGroup = 1;
    public const int RtnlIPv4RouteGroup = 7;
    public const int RtnlIPv4RuleGroup = 8;
    public const int RtnlIPv6RouteGroup = 11;
    public const int RtnlIPv6RuleGroup = 19;

    /// <summary>Notification bursts (a flush of a big table) must fit, or the kernel drops them (ENOBUFS).</summary>
    private const int ReceiveBuffer = 16 * 1024 * 1024;

    /// <summary>Opens a socket of <paramref name="protocol"/> that receives <paramref name="groups"/>.</summary>
    public static NetlinkSocket Open(int protocol, string? netnsPath, params int[] groups)
    {
        var socket = NetlinkSocket.Open(protocol, netnsPath);
        try
        {
            socket.EnsureReceiveBuffer(ReceiveBuffer);
            foreach (var group in groups)
            {
                socket.SetOption(Interop.SOL_NETLINK, Interop.NETLINK_ADD_MEMBERSHIP, group);
            }

            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The port id the kernel gave the socket at bind (nlmsg_pid of what it causes).</summary>
    public static unsafe uint PortId(NetlinkSocket socket)
    {
        var address = default(Interop.SockAddrNetlink);
        var length = (uint)sizeof(Interop.SockAddrNetlink);
        if (Interop.GetSockName(socket.Descriptor, &address, &length) != 0)
        {
            throw new NetlinkException(Marshal.GetLastPInvokeError(), "getsockname");
        }

        return address.PortId;
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> until one of <paramref name="sockets"/> has something to
    /// read; returns which ones do (all false on timeout or a signal).
    /// </summary>
    public static unsafe bool[] Wait(IReadOnlyList<NetlinkSocket> sockets, TimeSpan timeout)
    {
        var fds = stackalloc Interop.PollFd[sockets.Count];
        var added = new bool[sockets.Count];
        try
        {
            for (var i = 0; i < sockets.Count; i++)
            {
                var handle = sockets[i].Descriptor;
                handle.DangerousAddRef(ref added[i]);
                fds[i] = new Interop.PollFd { Fd = (int)handle.DangerousGetHandle(), Events = Interop.POLLIN };
            }

            var milliseconds = (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 0, int.MaxValue);
            var ready = Interop.Poll(fds, (nuint)sockets.Count, milliseconds);
            var errno = Marshal.GetLastPInvokeError();
            var result = new bool[sockets.Count];
            if (ready < 0)
            {
                return errno == Errno.EINTR ? result : throw new NetlinkException(errno, "poll");
            }

            for (var i = 0; i < sockets.Count; i++)
            {
                result[i] = fds[i].Revents != 0;
            }

            return result;
        }
        finally
        {
            for (var i = 0; i < sockets.Count; i++)
            {
                if (added[i])
                {
                    sockets[i].Descriptor.DangerousRelease();
                }
            }
        }
    }
}
