using MdvGateway.AuditConsumer;
using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Persistence;

try
{
    if (MigrateArguments.IsInvoked(args))
    {
        return await MigrateCommand.RunAsync(args, Console.Out, Console.Error);
    }

    var app = AuditConsumerApplication.Build(args);
    await app.RunAsync();
    return 0;
}
catch (AuditConsumerConfigurationException ex)
{
    // Before logging exists: one plain message naming every bad key, and a distinct exit code for scripts.
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
