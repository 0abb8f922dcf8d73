namespace ConnectiveOne.Console.Features.Inbox;

/// <summary>
/// The sandboxed frame that shows sanitized mail HTML: the thread's messages and the composer's preview. Without
/// allow-scripts nothing in it runs; same-origin lets the page size the frame (app.js fitFrames) and load our own
/// attachment URLs; the page's Content-Security-Policy applies inside a srcdoc frame too.
/// </summary>
public static class MailFrame
{
    /// <summary>The frame's sandbox attribute: links open in a new tab, nothing else is allowed.</summary>
    public const string Sandbox = "allow-same-origin allow-popups allow-popups-to-escape-sandbox";

    /// <summary>The frame's document (its srcdoc): the HTML with a small style sheet of its own.</summary>
    public static string Document(string html) =>
        "<!doctype html><html><head><meta charset=\"utf-8\"><base target=\"_blank\"><style>" +
        "html{color-scheme:light}body{margin:0;padding:2px;font:14px/1.55 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;" +
        "color:#1f2937;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}" +
        "blockquote{margin:0 0 0 .6em;padding-left:.8em;border-left:3px solid #d1d5db;color:#4b5563}a{color:#2457c5}</style></head><body>" +
        html + "</body></html>";
}
