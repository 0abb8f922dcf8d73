using System.Collections.Concurrent;
using ConnectiveOne.Console.State;
using ConnectiveOne.Console.State.Notifications;
using ConnectiveOne.Core.Notifications;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectiveOne.Tests.Console.State;

/// <summary>
/// A store component prerendered by Blazor's static renderer (as every page is, during the HTTP request, before its
/// circuit starts) shows the store once and does not follow it. It used to subscribe like the circuit's instance: the
/// prerendered inbox re-rendered on the changes its own loads brought to the request's store (the draft marks came
/// last), and Blazor's diff threw NullReferenceException in the static renderer ("InboxPage failed to re-render on a
/// store change", about three times per DraftsBrowserTests run).
/// </summary>
[Trait("Database", "Unused")] // touches no database: runs in the SQLite pass only
public sealed class PrerenderedStoreComponentTests
{
    /// <summary>Shows the unread count, on a button whose click handler is made anew on every render (as a lambda in markup is).</summary>
    private sealed class UnreadButton : StoreComponent
    {
        protected override void BuildRenderTree(RenderTreeBuilder builder)
        {
            builder.OpenElement(0, "button");
            builder.AddAttribute(1, "onclick", EventCallback.Factory.Create(this, () => { }));
            builder.AddContent(2, $"unread {Select((NotificationsState s) => s.Unread)}");
            builder.CloseElement();
        }
    }

    private sealed class ErrorLog : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<string> Errors { get; } = new();
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                Errors.Enqueue($"{formatter(state, exception)} {exception}");
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_prerendered_component_shows_the_store_once_and_does_not_re_render_on_its_changes()
    {
        var errors = new ErrorLog();
        var services = new ServiceCollection()
            .AddLogging(logging => logging.AddProvider(errors))
            .AddScoped<Store>()
            .AddSingleton<IFeature, NotificationsFeature>()
            .BuildServiceProvider();
        await using var scope = services.CreateAsyncScope(); // the request's scope, with its own store
        var store = scope.ServiceProvider.GetRequiredService<Store>();
        await using var renderer = new HtmlRenderer(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<ILoggerFactory>());

        var page = await renderer.Dispatcher.InvokeAsync(() => renderer.RenderComponentAsync<UnreadButton>());
        await page.QuiescenceTask;
        Assert.Equal("<button>unread 0</button>", await renderer.Dispatcher.InvokeAsync(page.ToHtmlString));
        Assert.Equal(0, store.SubscriberCount);

        // A load of the page's own finishes after the prerender (dispatched off the renderer's thread, as effects do).
        await Task.Run(() => store.Dispatch(new NotificationsLoaded("u1", new NotificationPage([], 3))));
        Assert.Equal(3, store.Select<NotificationsState>().Unread);
        await renderer.Dispatcher.InvokeAsync(() => { }); // a re-render it had asked for would have run before this

        Assert.Equal("<button>unread 0</button>", await renderer.Dispatcher.InvokeAsync(page.ToHtmlString));
        Assert.Empty(errors.Errors);
    }
}
