using System.Runtime.InteropServices;

namespace Fwmark.Linux;

/// <summary>
/// errno values this layer reacts to, plus names for error details. Numbers are the asm-generic
/// ones (identical on x86-64 and arm64).
/// </summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EEXIST = 17;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int ERANGE = 34;
    public const int ELOOP = 40;
    public const int ENOMSG = 42;
    public const int EPROTO = 71;
    public const int ERESTART = 85;
    public const int EMSGSIZE = 90;
    public const int EPROTONOSUPPORT = 93;
    public const int EOPNOTSUPP = 95;
    public const int EAFNOSUPPORT = 97;
    public const int ENOBUFS = 105;
    public const int ENETDOWN = 100;
    public const int ENETUNREACH = 101;
    public const int ETIMEDOUT = 110;
    public const int EHOSTUNREACH = 113;

    /// <summary>"EEXIST" for 17; "errno 123" for numbers without a name here.</summary>
    public static string Name(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        ESRCH => "ESRCH",
        EINTR => "EINTR",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EBUSY => "EBUSY",
        ENODEV => "ENODEV",
        EEXIST => "EEXIST",
        EINVAL => "EINVAL",
        ENOSPC => "ENOSPC",
        ERANGE => "ERANGE",
        ELOOP => "ELOOP",
        ENOMSG => "ENOMSG",
        EPROTO => "EPROTO",
        ERESTART => "ERESTART",
        EMSGSIZE => "EMSGSIZE",
        EPROTONOSUPPORT => "EPROTONOSUPPORT",
        EOPNOTSUPP => "EOPNOTSUPP",
        EAFNOSUPPORT => "EAFNOSUPPORT",
        ENOBUFS => "ENOBUFS",
        ENETDOWN => "ENETDOWN",
        ENETUNREACH => "ENETUNREACH",
        ETIMEDOUT => "ETIMEDOUT",
        EHOSTUNREACH => "EHOSTUNREACH",
        _ => $"errno {errno}",
    };

    /// <summary>libc's strerror text, e.g. "File exists".</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
