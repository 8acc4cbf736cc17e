// These tests drive Linux kernel interfaces (netlink, netns, flock) and nothing else.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
