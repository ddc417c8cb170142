using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>The audit schema for EF Core migrations. Partitioning is not expressible in EF's model: the migrations
/// carry that SQL themselves.</summary>
internal sealed class AuditDbContext(DbContextOptions<AuditDbContext> options) : DbContext(options)
{
    public DbSet<AuditLogEntry> AuditLogs => Set<AuditLogEntry>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => Configure(modelBuilder.Entity<AuditLogEntry>());

    private static void Configure(EntityTypeBuilder<AuditLogEntry> entity)
    {
        entity.ToTable(AuditSchema.Table, table => table.HasCheckConstraint(AuditSchema.DetailsIsObject, "jsonb_typeof(details) = 'object'"));
        entity.HasKey(e => new { e.Id, e.OccurredAt }).HasName(AuditSchema.PrimaryKey);
        entity.HasAlternateKey(e => new { e.EventId, e.OccurredAt }).HasName(AuditSchema.UniqueEvent);
        entity.HasIndex(e => new { e.ClientIp, e.OccurredAt }).HasDatabaseName(AuditSchema.ClientIpIndex);
        entity.HasIndex(e => new { e.EventType, e.OccurredAt }).HasDatabaseName(AuditSchema.EventTypeIndex);
        entity.HasIndex(e => new { e.Actor, e.OccurredAt }).HasDatabaseName(AuditSchema.AdminActorIndex).HasFilter(AuditSchema.AdminActorFilter);

        entity.Property(e => e.Id).HasColumnName("id").UseIdentityAlwaysColumn();
        entity.Property(e => e.EventId).HasColumnName("event_id");
        entity.Property(e => e.EventType).HasColumnName("event_type").HasColumnType("text");
        entity.Property(e => e.OccurredAt).HasColumnName("occurred_at").HasColumnType("timestamp with time zone");
        entity.Property(e => e.RecordedAt).HasColumnName("recorded_at").HasColumnType("timestamp with time zone").HasDefaultValueSql("now()");
        entity.Property(e => e.ClientIp).HasColumnName("client_ip").HasColumnType("inet");
        entity.Property(e => e.RouteId).HasColumnName("route_id").HasColumnType("text");
        entity.Property(e => e.Policy).HasColumnName("policy").HasColumnType("text");
        entity.Property(e => e.Actor).HasColumnName("actor").HasColumnType("text");
        entity.Property(e => e.Details).HasColumnName("details").HasColumnType("jsonb");
    }
}
