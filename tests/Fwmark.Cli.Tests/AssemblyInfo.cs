using System.Runtime.Versioning;

// The CLI is Linux software (file modes, /proc); so are its tests.
[assembly: SupportedOSPlatform("linux")]
