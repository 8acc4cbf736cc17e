using System.Runtime.Versioning;

// Network namespaces, nftables and CNI only exist on Linux.
[assembly: SupportedOSPlatform("linux")]
