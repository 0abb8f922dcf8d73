using MudBlazor;

namespace ConnectiveOne.Console.Components.Layout;

/// <summary>
/// Colours chosen for WCAG AA (4.5:1 for small text) against the surface, the background and a selected row in each
/// theme; the accessibility browser test (axe) checks the pages with them.
/// </summary>
internal static class AppTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#2457c5",
            Secondary = "#0b7275",
            AppbarBackground = "#ffffff",
            AppbarText = "#1f2937",
            Background = "#f6f7fb",
            DrawerBackground = "#ffffff",
            DrawerText = "#374151",
            TextSecondary = "#5f6673",
            Info = "#1565c0",
            Success = "#176b30",
            Warning = "#9a4a06",
            Error = "#c62828",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7aa2ff",
            PrimaryContrastText = "#0b1530",
            Secondary = "#4fd1c5",
            AppbarBackground = "#161b26",
            Background = "#0f131b",
            Surface = "#171c27",
            DrawerBackground = "#131824",
            TextSecondary = "#a0a7b4",
            Success = "#4ade80",
            Warning = "#fbbf24",
            Error = "#f87171",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography
            {
                FontFamily = ["Inter", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"],
            },
        },
        LayoutProperties = new LayoutProperties { DrawerWidthLeft = "232px" },
    };
}
