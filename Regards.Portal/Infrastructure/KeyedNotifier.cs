using System.Globalization;

namespace Regards.Portal.Infrastructure;

/// <summary>
/// In-process publish/subscribe keyed by e.g. a user's e-mail: a page subscribes to its own key, publishers never
/// wait for subscribers (each handler runs detached, its errors logged), and a subscription is removed on dispose.
/// </summary>
public class KeyedNotifier<TKey, TMessage>(ILogger logger) where TKey : notnull
{
    private readonly Lock gate = new();
    private readonly Dictionary<TKey, List<Func<TMessage, Task>>> handlers = new();

    /// <summary>
    /// Subscribes <paramref name="handler"/>, which then runs with the culture of the subscriber (a page's user), not
    /// that of the publisher: a render pushed by the engine's thread must not turn a French page into English.
    /// </summary>
    public IDisposable Subscribe(TKey key, Func<TMessage, Task> handler)
    {
        var (culture, uiCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        var subscriber = handler;
        handler = message =>
        {
            // Inside RunAsync's own flow: the publisher's culture is back once it returns.
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, uiCulture);
            return subscriber(message);
        };
        lock (gate)
        {
            if (!handlers.TryGetValue(key, out var list))
            {
                handlers[key] = list = [];
            }
            list.Add(handler);
        }
        return new Subscription(this, key, handler);
    }

    public void Publish(TKey key, TMessage message)
    {
        Func<TMessage, Task>[] targets;
        lock (gate)
        {
            targets = handlers.TryGetValue(key, out var list) ? list.ToArray() : [];
        }
        foreach (var handler in targets)
        {
            _ = RunAsync(handler, message);
        }
    }

    /// <summary>Whether anything at all listens here (an open page, for the order notifier).</summary>
    public bool HasSubscribers
    {
        get
        {
            lock (gate)
            {
                return handlers.Count > 0;
            }
        }
    }

    public int SubscriberCount(TKey key)
    {
        lock (gate)
        {
            return handlers.TryGetValue(key, out var list) ? list.Count : 0;
        }
    }

    private async Task RunAsync(Func<TMessage, Task> handler, TMessage message)
    {
        try
        {
            await handler(message);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "A change subscriber failed");
        }
    }

    private void Unsubscribe(TKey key, Func<TMessage, Task> handler)
    {
        lock (gate)
        {
            if (handlers.TryGetValue(key, out var list) && list.Remove(handler) && list.Count == 0)
            {
                handlers.Remove(key);
            }
        }
    }

    private sealed class Subscription(KeyedNotifier<TKey, TMessage> owner, TKey key, Func<TMessage, Task> handler) : IDisposable
    {
        private int disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                owner.Unsubscribe(key, handler);
            }
        }
    }
}
