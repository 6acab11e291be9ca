namespace Regards.Portal.Infrastructure;

/// <summary>
/// Runs an action once per burst of calls: a call arriving while a run is pending joins it. Pages use it to turn
/// a burst of pushed changes (a sub-order touching many files) into one reload.
/// </summary>
public sealed class Coalescer(TimeSpan delay, TimeProvider time)
{
    private int pending;

    /// <summary>Runs the action after the delay, unless cancelled meanwhile (the page was closed).</summary>
    public async Task RunAsync(Func<Task> action, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref pending, 1) == 1)
        {
            return;
        }
        // Back on the caller's context (a page's renderer) after the wait, without an exception when cancelled.
        await Task.Delay(delay, time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.ContinueOnCapturedContext | ConfigureAwaitOptions.SuppressThrowing);
        Interlocked.Exchange(ref pending, 0);
        if (!cancellationToken.IsCancellationRequested)
        {
            await action();
        }
    }
}
