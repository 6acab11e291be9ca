using Regards.Portal.Infrastructure;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>The pages' reload coalescer, on the real clock with a short delay.</summary>
[Trait("Tier", "Fast")]
public sealed class CoalescerTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(100);

    private int runs;

    private Task Action()
    {
        Interlocked.Increment(ref runs);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_burst_of_calls_runs_the_action_once_and_a_later_call_runs_it_again()
    {
        var coalescer = new Coalescer(Delay, TimeProvider.System);

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => coalescer.RunAsync(Action)));
        Assert.Equal(1, runs);
        await coalescer.RunAsync(Action);
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task A_call_cancelled_during_its_wait_does_not_run_and_does_not_block_the_next_one()
    {
        var coalescer = new Coalescer(Delay, TimeProvider.System);

        using var closing = new CancellationTokenSource();
        var waiting = coalescer.RunAsync(Action, closing.Token);
        await closing.CancelAsync();
        await waiting; // ends quietly, without an exception
        Assert.Equal(0, runs);
        await coalescer.RunAsync(Action);
        Assert.Equal(1, runs);
    }
}
