using ConnectiveOne.Core;
using ConnectiveOne.Core.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ConnectiveOne.Migrations.Postgres;

/// <summary>Lets <c>dotnet ef migrations add</c> build the PostgreSQL model without a server or the app.</summary>
internal sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args)
    {
        var options = new ConnectiveOneOptions
        {
            Database = { Provider = DatabaseProvider.Postgres, ConnectionString = "Host=localhost;Database=design_time" },
        };
        return new AppDbContext(new DbContextOptionsBuilder<AppDbContext>().UseConfiguredDatabase(options).Options);
    }
}
