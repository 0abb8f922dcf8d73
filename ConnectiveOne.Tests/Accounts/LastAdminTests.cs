using ConnectiveOne.Core.Accounts;
using ConnectiveOne.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectiveOne.Tests.Accounts;

/// <summary>The last-admin guard holds when two admins demote or deactivate each other at the same moment.</summary>
public sealed class LastAdminTests : IAsyncLifetime
{
    private readonly TestApp _app = new();

    public Task InitializeAsync()
    {
        _app.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Two_admins_removing_each_other_at_once_always_leave_one_admin()
    {
        var ann = await CreateAsync("ann@example.test", Roles.Admin);
        var bob = await CreateAsync("bob@example.test", Roles.Admin);
        var bootstrap = (await ListAsync()).Single(u => u.Email == TestApp.AdminEmail);
        Assert.Null((await DirectoryCallAsync(d => d.SetRoleAsync(bootstrap.Id, Roles.Operator))).Error);

        for (var round = 0; round < 20; round++)
        {
            // Demotions in even rounds, deactivations in odd ones; each in its own scope (its own request).
            var results = await Task.WhenAll(
                Task.Run(() => DirectoryCallAsync(d => round % 2 == 0 ? d.SetRoleAsync(bob, Roles.Operator) : d.SetActiveAsync(bob, false))),
                Task.Run(() => DirectoryCallAsync(d => round % 2 == 0 ? d.SetRoleAsync(ann, Roles.Operator) : d.SetActiveAsync(ann, false))));

            var admins = (await ListAsync()).Where(u => u.Role == Roles.Admin && u.IsActive).ToList();
            Assert.True(admins.Count == 1, $"Round {round}: {admins.Count} active admins left; answers: " +
                string.Join(", ", results.Select(r => r.Error?.ToString() ?? "ok")));
            Assert.Equal([AccountError.LastAdmin], results.Where(r => r.Error is not null).Select(r => r.Error!.Value));

            foreach (var id in new[] { ann, bob })
            {
                Assert.Null((await DirectoryCallAsync(d => d.SetActiveAsync(id, true))).Error);
                Assert.Null((await DirectoryCallAsync(d => d.SetRoleAsync(id, Roles.Admin))).Error);
            }
        }
    }

    private async Task<string> CreateAsync(string email, string role) =>
        (await DirectoryCallAsync(d => d.CreateAsync(email, "user-password-1", role))).User!.Id;

    private async Task<IReadOnlyList<UserInfo>> ListAsync()
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<UserDirectory>().ListAsync();
    }

    private async Task<AccountResult> DirectoryCallAsync(Func<UserDirectory, Task<AccountResult>> call)
    {
        await using var scope = _app.Services.CreateAsyncScope();
        return await call(scope.ServiceProvider.GetRequiredService<UserDirectory>());
    }
}
