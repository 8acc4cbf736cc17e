using System.Runtime.Versioning;

// Every test class builds its own namespaces (unique fwe-RUNID names), so classes may run in parallel.
[assembly: SupportedOSPlatform("linux")]
