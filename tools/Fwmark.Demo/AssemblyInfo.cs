using System.Runtime.Versioning;

// The demo runs in network namespaces: Linux only.
[assembly: SupportedOSPlatform("linux")]
