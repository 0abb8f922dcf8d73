using ConnectiveOne.Core.Accounts;

namespace ConnectiveOne.Tests.Accounts;

[Trait("Database", "Unused")]
public sealed class SignInBackoffTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(4, 0)]
    [InlineData(5, 60)]
    [InlineData(6, 120)]
    [InlineData(7, 240)]
    [InlineData(10, 1920)]
    [InlineData(15, 61_440)]
    [InlineData(16, 86_400)]
    [InlineData(1000, 86_400)]
    public void The_wait_doubles_with_each_wrong_password_past_the_allowed_ones_up_to_a_day(int failures, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), SignInBackoff.LockoutAfter(failures, allowed: 5, first: TimeSpan.FromMinutes(1)));
}
