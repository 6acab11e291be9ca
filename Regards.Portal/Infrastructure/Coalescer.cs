namespace Regards.Portal.Infrastructure;

/// <summary>
/// Runs an action once per burst of calls: a call arriving while a run is pending joins it. Pages use it to turn
/// a burst of pushed changes (a sub-order touching many files) into one reload.
/// </summary>
public sealed class Coalescer(TimeSpan delay, TimeProvider time)
{
    private int pending;

    public async Task RunAsync(Func<Task> action)
    {
        if (Interlocked.Exchange(ref pending, 1) == 1)
        {
            return;
        }
        await Task.Delay(delay, time);
        Interlocked.Exchange(ref pending, 0);
        await action();
    }
}
