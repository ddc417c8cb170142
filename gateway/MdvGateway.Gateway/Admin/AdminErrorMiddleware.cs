using StackExchange.Redis;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The admin listener's last line of defence: refused requests become their problem answers, an unreachable Redis a
/// 503, and anything unexpected a 500 that says nothing about the failure (the log has it, under the same traceId).
/// </summary>
internal sealed partial class AdminErrorMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ILogger<AdminErrorMiddleware> _logger;

    public AdminErrorMiddleware(RequestDelegate next, ILogger<AdminErrorMiddleware> logger)
    {
        _next = next;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await _next(context);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; nobody is left to answer.
        }
        catch (Exception ex) when (!context.Response.HasStarted)
        {
            context.Response.Clear();
            switch (ex)
            {
                case AdminRequestException refused:
                    await AdminProblems.Write(context, AdminProblems.WireStatus(refused.StatusCode), refused.Message, refused.Extensions, kindOf: refused.StatusCode);
                    break;
                case BadHttpRequestException bad:
                    // Kestrel's own refusals (body over its limit, malformed framing): the status it chose, no internals.
                    await AdminProblems.Write(context, AdminProblems.WireStatus(bad.StatusCode), "The request is malformed or too large.", kindOf: bad.StatusCode);
                    break;
                case var _ when IsStoreFailure(ex):
                    Log.StoreUnavailable(_logger, context.Request.Method, context.Request.Path.Value ?? string.Empty, ex.GetType().Name, ex.Message);
                    await AdminProblems.StoreUnavailable(context);
                    break;
                default:
                    Log.Unexpected(_logger, ex, context.Request.Method, context.Request.Path.Value ?? string.Empty);
                    await AdminProblems.Internal(context);
                    break;
            }
        }
    }

    /// <summary>Redis away, timing out or refusing: the admin API answers 503 and the caller may retry.</summary>
    public static bool IsStoreFailure(Exception ex)
        => ex is RedisException or TimeoutException || (ex is AggregateException aggregate && aggregate.InnerExceptions.All(IsStoreFailure));

    private static partial class Log
    {
        [LoggerMessage(EventId = 5030, Level = LogLevel.Warning, Message = "Admin request {Method} {Path} refused: Redis unavailable ({ErrorType}: {Error})")]
        public static partial void StoreUnavailable(ILogger logger, string method, string path, string errorType, string error);

        [LoggerMessage(EventId = 5031, Level = LogLevel.Error, Message = "Admin request {Method} {Path} failed unexpectedly")]
        public static partial void Unexpected(ILogger logger, Exception exception, string method, string path);
    }
}
