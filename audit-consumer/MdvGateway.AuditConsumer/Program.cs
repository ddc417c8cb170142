using Npgsql;

// The consumer's host: health on its own listener. Consuming and persisting audit events arrive with the audit
// pipeline; until then this process only reports whether its database is reachable.
var builder = WebApplication.CreateSlimBuilder(args);
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:8082");
}

var app = builder.Build();
app.MapGet("/health/live", static () => Results.Ok(new { status = "live" }));
app.MapGet("/health/ready", static async (IConfiguration configuration, CancellationToken cancellationToken) =>
{
    var connectionString = configuration.GetConnectionString("AuditDb");
    if (string.IsNullOrEmpty(connectionString))
    {
        return Results.Json(new { status = "not-ready", postgres = "ConnectionStrings:AuditDb is not set" }, statusCode: 503);
    }

    try
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return Results.Ok(new { status = "ready", postgres = "connected" });
    }
    catch (NpgsqlException)
    {
        return Results.Json(new { status = "not-ready", postgres = "unavailable" }, statusCode: 503);
    }
});
await app.RunAsync();
