namespace ConnectiveOne.Tests.TestSupport;

[Trait("Database", "Unused")] // the point: a test with this trait may not open one
public sealed class DatabaseTraitGuardTests
{
    [Fact]
    public void A_test_tagged_Unused_that_opens_a_database_fails_naming_the_test()
    {
        var folder = Path.Combine(Path.GetTempPath(), "c1-guard-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<InvalidOperationException>(() => TestDatabase.Create(folder));
        Assert.Contains($"{nameof(DatabaseTraitGuardTests)}.{nameof(A_test_tagged_Unused_that_opens_a_database_fails_naming_the_test)}", error.Message);
        Assert.Contains("Unused", error.Message);
    }

    [Fact]
    public async Task The_guard_follows_the_test_into_tasks_it_starts()
    {
        var folder = Path.Combine(Path.GetTempPath(), "c1-guard-" + Guid.NewGuid().ToString("N"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Task.Run(() => TestDatabase.Create(folder)));
    }
}
