// The bench execs a Linux CNI plugin inside network namespaces; it runs nowhere else.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
