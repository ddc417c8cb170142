using MdvGateway.Gateway;
using MdvGateway.Gateway.Configuration;

try
{
    var app = GatewayApplication.Build(args);
    await app.RunAsync();
    return 0;
}
catch (GatewayConfigurationException ex)
{
    // Before logging exists: one plain message naming every bad key, and a distinct exit code for scripts.
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
