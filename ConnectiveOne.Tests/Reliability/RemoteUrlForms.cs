namespace ConnectiveOne.Tests.Reliability;

/// <summary>
/// One way for a mail to point the browser at another host. <see cref="Html"/> fetches <c>{host}/{Id}</c> if the
/// browser gets it unchanged; <see cref="Revealed"/> is the <c>src</c> "Show images" gives back (null: never loads).
/// </summary>
public sealed record RemoteUrlForm(string Id, string Html, string? Revealed);

/// <summary>
/// URL forms a browser reads as remote although they do not start with <c>http</c> or <c>//</c> (backslashes, tabs and
/// newlines inside the prefix, leading control characters, entity-encoded), in every carrier that fetches on opening:
/// <c>src</c>, <c>srcset</c>, <c>background</c>, CSS <c>url()</c> and <c>image-set()</c> with escapes and comments,
/// SVG <c>&lt;image&gt;</c>/<c>&lt;use&gt;</c>, <c>&lt;link&gt;</c>, <c>&lt;video poster&gt;</c> and more.
/// </summary>
public static class RemoteUrlForms
{
    // {H} is the host (with port), {P} the form's id. Written as a browser receives it: C# escapes are raw characters
    // in the attribute, &#…; ones are character references the HTML parser decodes first.
    private static readonly (string Html, string? Revealed)[] Table =
    [
        // <img src>: blocked, then shown by "Show images" in the form the browser would have used.
        ("<img src=\"http://{H}/{P}\">", "http://{H}/{P}"),
        ("<img src=\"HTTP://{H}/{P}\">", "http://{H}/{P}"),
        ("<img src=\"https://{H}/{P}\">", "https://{H}/{P}"),
        ("<img src=\"//{H}/{P}\">", "//{H}/{P}"),
        ("<IMG SRC=//{H}/{P}>", "//{H}/{P}"),
        ("<img src=\"\\\\{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"/\\{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"\\/{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"///{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"\\\\\\{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"/\\/{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"http:\\\\{H}/{P}\">", "http://{H}/{P}"),
        ("<img src=\"http:/\\{H}/{P}\">", "http://{H}/{P}"),
        ("<img src=\"https:\\\\{H}/{P}\">", "https://{H}/{P}"),
        ("<img src=\"http:{H}/{P}\">", "http://{H}/{P}"),
        ("<img src=\" \t//{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"/\t/{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"/\n/{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"\\\r\n\\{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"\t\\\t\\{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"&#1;//{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"&#x1F;\\\\{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"&#x0C;//{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"&#9;&#10;/&#13;/{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"\u0001\u0008//{H}/{P}\">", "//{H}/{P}"),
        ("<img src=\"h&#9;ttp://{H}/{P}\">", "http://{H}/{P}"),
        ("<img src=\"ht&#10;tp:\\\\{H}/{P}\">", "http://{H}/{P}"),
        ("<img src='  \\\\{H}/{P}  '>", "//{H}/{P}"),
        ("<img src=\"http://{H}/{P}\" srcset=\"//{H}/{P}-srcset 2x\">", "http://{H}/{P}"),
        // Other carriers: none survives, not even after "Show images".
        ("<img srcset=\"\\\\{H}/{P} 1x\">", null),
        ("<picture><source srcset=\"//{H}/{P}\"><img alt=\"picture\"></picture>", null),
        ("<table background=\"\\\\{H}/{P}\"><tr><td>table</td></tr></table>", null),
        ("<table><tr><td background=\"/\\{H}/{P}\">cell</td></tr></table>", null),
        ("<body background=\"//{H}/{P}\">", null),
        ("<div style=\"background:url(//{H}/{P})\">css</div>", null),
        ("<div style=\"background-image:u\\72l(\\\\{H}/{P})\">css escape</div>", null),
        ("<div style=\"background:\\75rl('/\\{H}/{P}')\">css escape</div>", null),
        ("<div style=\"background:/**/url(/**/'//{H}/{P}')/**/\">css comments</div>", null),
        ("<div style=\"background-image:image-set('\\\\{H}/{P}' 1x)\">image-set</div>", null),
        ("<div style=\"--x:url(//{H}/{P});background:var(--x)\">custom property</div>", null),
        ("<ul style=\"list-style-image:url(&quot;//{H}/{P}&quot;)\"><li>list</li></ul>", null),
        ("<div style=\"cursor:url(//{H}/{P}),auto\">cursor</div>", null),
        ("<style>@import '//{H}/{P}';</style>", null),
        ("<style>.c1x{background:url(\\\\{H}/{P})}</style><div class=\"c1x\">style element</div>", null),
        ("<style>@font-face{font-family:c1f;src:url(//{H}/{P})}.c1f{font-family:c1f}</style><p class=\"c1f\">font</p>", null),
        ("<svg><image href=\"//{H}/{P}\" width=\"5\" height=\"5\"/></svg>", null),
        ("<svg xmlns:xlink=\"http://www.w3.org/1999/xlink\"><image xlink:href=\"\\\\{H}/{P}\" width=\"5\" height=\"5\"/></svg>", null),
        ("<svg><use href=\"//{H}/{P}#a\"/></svg>", null),
        ("<svg><style>@import \"/\\{H}/{P}\";</style></svg>", null),
        ("<link rel=\"stylesheet\" href=\"\\\\{H}/{P}\">", null),
        ("<link rel=\"preload\" as=\"image\" href=\"//{H}/{P}\">", null),
        ("<link rel=\"icon\" href=\"/\\{H}/{P}\">", null),
        ("<video poster=\"\\\\{H}/{P}\"></video>", null),
        ("<video src=\"//{H}/{P}\"></video>", null),
        ("<video><source src=\"\\\\{H}/{P}\"></video>", null),
        ("<audio src=\"/\\{H}/{P}\"></audio>", null),
        ("<input type=\"image\" src=\"//{H}/{P}\">", null),
        ("<object data=\"\\\\{H}/{P}\"></object>", null),
        ("<embed src=\"//{H}/{P}\">", null),
        ("<iframe src=\"/\\{H}/{P}\"></iframe>", null),
        ("<meta http-equiv=\"refresh\" content=\"0; url=//{H}/{P}\">", null),
        ("<base href=\"//{H}/\"><img src=\"{P}\" alt=\"base\">", null),
        ("<img src=\"\u00A0//{H}/{P}\" alt=\"nbsp is no space to a URL\">", null),
        ("<img src=\"java&#9;script:fetch('//{H}/{P}')\" alt=\"script\">", null),
    ];

    /// <summary>The table for <paramref name="host"/> (e.g. <c>127.0.0.1:5123</c>), ids <c>u01</c>, <c>u02</c>, ….</summary>
    public static IReadOnlyList<RemoteUrlForm> For(string host) =>
        Table.Select((row, i) =>
        {
            var id = $"u{i + 1:00}";
            return new RemoteUrlForm(id, row.Html.Replace("{H}", host).Replace("{P}", id), row.Revealed?.Replace("{H}", host).Replace("{P}", id));
        }).ToList();
}
