namespace ConnectiveOne.Tests.Browser;

/// <summary>
/// The screens and themes pages are drawn in. A normal run checks each size and each theme once (layout does not depend
/// on the theme, colours not on the size; <c>AccessibilityBrowserTests</c> checks contrast in both themes), which keeps
/// the suite inside its time. <c>C1_SCREENSHOTS=all</c> draws every size in every theme, for people to look at the
/// screenshots in test-artifacts/.
/// </summary>
public static class Screens
{
    /// <summary>Whether this run draws the whole matrix (<c>C1_SCREENSHOTS=all</c>).</summary>
    public static bool Full => Environment.GetEnvironmentVariable("C1_SCREENSHOTS") == "all";

    /// <summary>Each size in light and dark when <see cref="Full"/>; otherwise each size once, the themes taking turns.</summary>
    public static IReadOnlyList<(int Width, int Height, string Theme)> Of(params (int Width, int Height)[] sizes) =>
        Full
            ? [.. sizes.SelectMany(s => new[] { (s.Width, s.Height, "light"), (s.Width, s.Height, "dark") })]
            : [.. sizes.Select((s, i) => (s.Width, s.Height, i % 2 == 0 ? "light" : "dark"))];

    /// <summary>A laptop and a phone (1366×768, 390×844), as <see cref="Of"/> picks their themes.</summary>
    public static IReadOnlyList<(int Width, int Height, string Theme)> LaptopAndPhone => Of((1366, 768), (390, 844));

    /// <summary><see cref="LaptopAndPhone"/> as theory data: (width, height, theme).</summary>
    public static TheoryData<int, int, string> LaptopAndPhoneData
    {
        get
        {
            var data = new TheoryData<int, int, string>();
            foreach (var (width, height, theme) in LaptopAndPhone)
                data.Add(width, height, theme);
            return data;
        }
    }
}
