using System.Runtime.Versioning;

// One daemon per test class (a class fixture): tests of a class share it and run one after the other, each
// leaving no pod behind; the containerd class and the podman class have separate nodes and may run in parallel.
[assembly: SupportedOSPlatform("linux")]
