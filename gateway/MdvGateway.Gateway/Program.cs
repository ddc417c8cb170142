using MdvGateway.Gateway;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;

if (HashKeyCommand.Matches(args))
{
    return HashKeyCommand.Run(args, Console.In, Console.Out, Console.Error);
}

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
