using Microsoft.EntityFrameworkCore.Design;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build the context without starting the host (no broker, no database:
/// adding a migration only compares models).
/// </summary>
internal sealed class AuditDbContextDesignTimeFactory : IDesignTimeDbContextFactory<AuditDbContext>
{
    public AuditDbContext CreateDbContext(string[] args)
        => new(AuditDbContextOptions.Create("Host=127.0.0.1;Database=mdv_audit"));
}
