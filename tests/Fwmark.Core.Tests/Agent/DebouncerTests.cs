using Fwmark.Core.Agent;

namespace Fwmark.Core.Tests.Agent;

public class DebouncerTests
{
    private static readonly DateTime T0 = new(2026, 12, 1, 12, 0, 0, DateTimeKind.Utc);

    private static DateTime Ms(double ms) => T0.AddMilliseconds(ms);

    [Fact]
    public void Nothing_is_due_without_a_notification()
    {
        var debouncer = new Debouncer(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100));
        Assert.Null(debouncer.DueAt);
        Assert.False(debouncer.TakeDue(Ms(1000)));
    }

    [Fact]
    public void A_burst_is_acted_on_once_after_it_went_quiet()
    {
        var debouncer = new Debouncer(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100));
        debouncer.Notify(Ms(0));
        debouncer.Notify(Ms(3));
        debouncer.Notify(Ms(6));

        Assert.False(debouncer.TakeDue(Ms(15)));
        Assert.Equal(Ms(16), debouncer.DueAt);
        Assert.True(debouncer.TakeDue(Ms(16)));
        Assert.False(debouncer.TakeDue(Ms(17)));
        Assert.False(debouncer.IsPending);
    }

    [Fact]
    public void A_steady_trickle_cannot_postpone_the_work_beyond_the_maximum_delay()
    {
        var debouncer = new Debouncer(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50));
        for (var t = 0; t <= 60; t += 5)
        {
            debouncer.Notify(Ms(t));
            if (debouncer.TakeDue(Ms(t)))
            {
                Assert.Equal(50, t);
                return;
            }
        }

        Assert.Fail("the work never became due");
    }
}
