var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.Run(static context =>
{
    context.Response.ContentType = "text/plain";
    context.Response.Headers["X-Upstream-Path"] = context.Request.Path.Value;
    return context.Response.WriteAsync("ok\n");
});
app.Run();
