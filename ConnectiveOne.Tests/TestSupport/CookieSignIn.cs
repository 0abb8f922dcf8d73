using System.Net;
using System.Text.RegularExpressions;

namespace ConnectiveOne.Tests.TestSupport;

/// <summary>Signs a person in through the real login form (antiforgery token and all) on an HttpClient with cookies.</summary>
public static partial class CookieSignIn
{
    public static async Task SignInAsync(HttpClient client, string email, string password)
    {
        var response = await PostLoginAsync(client, email, password);
        if (response.StatusCode != HttpStatusCode.Redirect && response.StatusCode != HttpStatusCode.Found)
            throw new InvalidOperationException($"Sign-in of {email} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Fetches the form and posts it; returns the answer (a redirect on success, the form again on failure).</summary>
    public static async Task<HttpResponseMessage> PostLoginAsync(HttpClient client, string email, string password) =>
        await client.PostAsync("/account/login", await LoginFormAsync(client, email, password));

    /// <summary>Fetches the sign-in form (its antiforgery token) and fills it in, ready to post to <c>/account/login</c>.</summary>
    public static async Task<FormUrlEncodedContent> LoginFormAsync(HttpClient client, string email, string password) =>
        await FormAsync(client, "/account/login", "login", new() { ["Input.Email"] = email, ["Input.Password"] = password });

    /// <summary>Fetches a static page's form (its antiforgery token) and fills in <paramref name="fields"/>.</summary>
    public static async Task<FormUrlEncodedContent> FormAsync(HttpClient client, string page, string formName, Dictionary<string, string> fields) =>
        Fill(await AntiforgeryTokenAsync(client, page), formName, fields);

    /// <summary>The antiforgery token of a static page's form; it stays valid for this client's later posts.</summary>
    public static async Task<string> AntiforgeryTokenAsync(HttpClient client, string page) =>
        WebUtility.HtmlDecode(AntiforgeryField().Match(await client.GetStringAsync(page)).Groups[1].Value);

    /// <summary>A form post with an antiforgery token fetched before.</summary>
    public static FormUrlEncodedContent Fill(string antiforgeryToken, string formName, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = antiforgeryToken;
        fields["_handler"] = formName;
        return new FormUrlEncodedContent(fields);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
