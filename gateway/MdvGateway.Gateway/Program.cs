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
catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException || ex.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
{
    // A listener could not bind (port taken, address not local): say which, instead of an unhandled-exception dump.
    await Console.Error.WriteLineAsync($"Cannot listen: {ex.Message}");
    return 3;
}
