namespace Fwmark.Testbed;

/// <summary>The testbed itself could not do what was asked (as opposed to the plugin misbehaving).</summary>
public sealed class TestbedException : Exception
{
    public TestbedException(string message)
        : base(message)
    {
    }

    public TestbedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
