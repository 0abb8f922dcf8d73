using ConnectiveOne.Core.Persistence;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ConnectiveOne.Core.Accounts;

/// <summary>
/// Runs after migrations: makes sure the roles exist, creates the admin and API token named by
/// <c>ConnectiveOne:Bootstrap:*</c>, and otherwise prepares the one-time setup token for an empty instance. Nodes
/// starting at once on one database may race to create the same rows: the loser's unique index refuses, and it
/// looks again (finding what the winner made).
/// </summary>
internal sealed class AccountBootstrapper(IServiceScopeFactory scopes, IOptions<ConnectiveOneOptions> options,
    FirstRunSetup firstRun, ILogger<AccountBootstrapper> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Roles, admin and token are three chances to lose a race, each against any of the other nodes.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await BootstrapAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException e) when (e.IsUniqueViolation() && attempt < 5)
            {
                logger.LogInformation("Another node set up the accounts at the same time; checking again");
            }
        }
    }

    private async Task BootstrapAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var roles = services.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
            if (!await roles.RoleExistsAsync(role))
                await roles.CreateAsync(new IdentityRole(role));

        var users = services.GetRequiredService<UserManager<AppUser>>();
        var bootstrap = options.Value.Bootstrap;
        AppUser? admin = null;
        if (!string.IsNullOrWhiteSpace(bootstrap.AdminEmail))
        {
            admin = await users.FindByEmailAsync(bootstrap.AdminEmail.Trim());
            if (admin is null && !users.Users.Any())
            {
                var created = await services.GetRequiredService<UserDirectory>()
                    .CreateAsync(bootstrap.AdminEmail, bootstrap.AdminPassword, Roles.Admin);
                // Null also when another node created the same admin a moment ago.
                admin = created.User is null ? await users.FindByEmailAsync(bootstrap.AdminEmail.Trim()) : await users.FindByIdAsync(created.User.Id);
                if (admin is null)
                    throw new InvalidOperationException($"ConnectiveOne:Bootstrap could not create the admin: {created.Message}");
                if (created.User is not null)
                    logger.LogInformation("Created the bootstrap admin {Email}", bootstrap.AdminEmail);
            }
        }

        if (!string.IsNullOrWhiteSpace(bootstrap.ApiToken))
        {
            admin ??= (await users.GetUsersInRoleAsync(Roles.Admin)).FirstOrDefault(u => u.IsActive);
            var tokens = services.GetRequiredService<ApiTokenService>();
            if (admin is null)
                logger.LogWarning("ConnectiveOne:Bootstrap:ApiToken is set but there is no admin to own it; set AdminEmail and AdminPassword too");
            else if (!await tokens.ExistsAsync(bootstrap.ApiToken, cancellationToken))
                await tokens.StoreAsync(admin.Id, "bootstrap", bootstrap.ApiToken, cancellationToken);
        }

        await firstRun.EnsureTokenAsync(users, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
