namespace Fwmark.Core.Tests; public class Placeholder { [Xunit.Fact] public void Ok() => Xunit.Assert.Equal(16, new Fwmark.Core.AttachmentOwner("n","c","eth0").Key.Length); }
