using Fwmark.Core.Agent;

namespace Fwmark.Core.Tests.Agent;

public class RetryBackoffTests
{
    [Fact]
    public void Delays_double_up_to_the_maximum_and_success_starts_over()
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300));

        var delays = Enumerable.Range(0, 5).Select(_ => backoff.Failed().TotalMilliseconds).ToList();

        Assert.Equal([50, 100, 200, 300, 300], delays);
        Assert.Equal(5, backoff.Failures);
        backoff.Succeeded();
        Assert.Equal(0, backoff.Failures);
        Assert.Equal(50, backoff.Failed().TotalMilliseconds);
    }
}
