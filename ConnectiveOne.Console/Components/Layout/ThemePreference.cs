namespace ConnectiveOne.Console.Components.Layout;

/// <summary>
/// The light/dark choice, kept in a cookie so static pages (login) and the interactive shell agree from
/// the first paint. Read once per circuit while the HTTP request is still there (prerendering).
/// </summary>
public sealed class ThemePreference(IHttpContextAccessor http)
{
    public const string Cookie = "c1-theme";

    public bool IsDark { get; } = http.HttpContext?.Request.Cookies[Cookie] == "dark";
}
