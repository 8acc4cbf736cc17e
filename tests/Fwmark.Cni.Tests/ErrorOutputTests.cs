namespace Fwmark.Cni.Tests;

/// <summary>The error object on stdout, and what happens to failures that are not CniExceptions.</summary>
public class ErrorOutputTests
{
    [Fact]
    public void Plugin_error_with_details_is_printed_exactly()
    {
        var plugin = new FakePlugin
        {
            OnCall = _ => throw new CniException(CniErrorCodes.TryAgainLater, "failed to lock table inet fwmark: busy", "errno 11 (EAGAIN)"),
        };

        var outcome = Invocation.Run(Invocation.Env("DEL"), Invocation.Config("0.4.0"), plugin);

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal(
            """{"cniVersion":"0.4.0","code":11,"msg":"failed to lock table inet fwmark: busy","details":"errno 11 (EAGAIN)"}""" + "\n",
            outcome.Stdout);
        Assert.Equal("", outcome.Stderr);
    }

    [Fact]
    public void Details_are_left_out_when_there_are_none()
    {
        var plugin = new FakePlugin { OnCall = _ => throw new CniException(CniErrorCodes.PluginNotAvailable, "failed to probe nf_tables: not available") };

        var outcome = Invocation.Run(Invocation.Env("STATUS"), Invocation.Config("1.1.0"), plugin);

        Assert.Equal("""{"cniVersion":"1.1.0","code":50,"msg":"failed to probe nf_tables: not available"}""" + "\n", outcome.Stdout);
    }

    [Theory]
    [InlineData("ADD")]
    [InlineData("DEL")]
    [InlineData("CHECK")]
    [InlineData("GC")]
    [InlineData("STATUS")]
    public void Any_other_exception_is_code_999_with_its_message_and_the_stack_only_on_stderr(string verb)
    {
        var plugin = new FakePlugin { OnCall = _ => throw new InvalidOperationException("sequence contains no elements") };

        var outcome = Invocation.Run(Invocation.Env(verb), Invocation.Config("1.1.0", Fixtures.Node(Fixtures.PodmanPrevResult040)), plugin);

        Assert.Equal("""{"cniVersion":"1.1.0","code":999,"msg":"sequence contains no elements"}""" + "\n", outcome.Stdout);
        Assert.Contains("System.InvalidOperationException", outcome.Stderr);
        Assert.Contains(" at ", outcome.Stderr);
    }

    [Fact]
    public void A_failing_stdin_read_is_an_io_failure()
    {
        var outcome = Invocation.Run(Invocation.Env("ADD"), new FailingStream());

        Assert.Equal("failed to read stdin: pipe broke", outcome.ErrorMessage(CniErrorCodes.IoFailure));
    }

    [Fact]
    public void A_broken_stdout_does_not_escape_run()
    {
        var plugin = new FakePlugin { OnCall = _ => throw new CniException(CniErrorCodes.InvalidNetworkConfig, "bad") };
        using var stderr = new StringWriter();

        var exit = CniDispatcher.Run(plugin, Invocation.Env("DEL"), new MemoryStream("""{"cniVersion":"1.0.0","name":"n"}"""u8.ToArray()), new BrokenWriter(), stderr);

        Assert.Equal(1, exit);
        Assert.Contains("failed to write CNI error 7", stderr.ToString());
    }

    [Fact]
    public void Nothing_escapes_run_even_when_stderr_is_broken_too()
    {
        var plugin = new FakePlugin { OnCall = _ => throw new InvalidOperationException("boom") };

        var exit = CniDispatcher.Run(plugin, Invocation.Env("DEL"), new MemoryStream("""{"cniVersion":"1.0.0","name":"n"}"""u8.ToArray()), new BrokenWriter(), new BrokenWriter());

        Assert.Equal(1, exit);
    }

    private sealed class FailingStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new IOException("pipe broke");

        public override int Read(Span<byte> buffer) => throw new IOException("pipe broke");
    }

    private sealed class BrokenWriter : StringWriter
    {
        public override void Write(char value) => throw new IOException("stdout closed");

        public override void Write(string? value) => throw new IOException("stdout closed");

        public override void WriteLine(string? value) => throw new IOException("stdout closed");
    }
}
