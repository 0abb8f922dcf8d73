using MudBlazor;

namespace ConnectiveOne.Console.Components.Layout;

internal static class AppTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#2457c5",
            Secondary = "#0f8b8d",
            AppbarBackground = "#ffffff",
            AppbarText = "#1f2937",
            Background = "#f6f7fb",
            DrawerBackground = "#ffffff",
            DrawerText = "#374151",
            Success = "#1a7f37",
            Warning = "#b45309",
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
