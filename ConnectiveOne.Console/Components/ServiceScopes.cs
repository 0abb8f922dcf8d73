namespace ConnectiveOne.Console.Components;

/// <summary>
/// Runs one operation of a page in its own DI scope. A Blazor circuit lives long and its events can overlap, while a
/// DbContext allows one operation at a time, so pages take a fresh scope (and DbContext) per call.
/// </summary>
internal static class ServiceScopes
{
    public static async Task<T> RunAsync<TService, T>(this IServiceScopeFactory scopes, Func<TService, Task<T>> work)
        where TService : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TService>());
    }
}
