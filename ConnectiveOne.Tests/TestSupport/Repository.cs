namespace ConnectiveOne.Tests.TestSupport;

public static class Repository
{
    /// <summary>The folder holding ConnectiveOne.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ConnectiveOne.sln")))
                return dir.FullName;
        throw new InvalidOperationException("ConnectiveOne.sln not found above " + AppContext.BaseDirectory);
    }
}
