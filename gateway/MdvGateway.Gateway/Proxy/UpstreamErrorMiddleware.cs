using Microsoft.AspNetCore.Http.Timeouts;
using Yarp.ReverseProxy.Forwarder;

namespace MdvGateway.Gateway.Proxy;

/// <summary>
/// Gives upstream failures a body: YARP answers 502/504 with an empty response; clients get problem+json saying
/// whether the upstream was unreachable or too slow. Errors after the response started cannot be rewritten and
/// are left to YARP (it aborts the connection).
/// </summary>
internal sealed partial class UpstreamErrorMiddleware
{
    public const string UnavailableType = "urn:mdvgateway:problem:upstream-unavailable";
    public const string TimeoutType = "urn:mdvgateway:problem:upstream-timeout";

    /// <summary>The status logged for a request whose client went away before its answer (never sent to anyone).</summary>
    public const int ClientClosedRequest = 499;

    private readonly RequestDelegate _next;
    private readonly ILogger<UpstreamErrorMiddleware> _logger;

    public UpstreamErrorMiddleware(RequestDelegate next, ILogger<UpstreamErrorMiddleware> logger)
    {
        _next = next;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        await _next(context);

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null || context.Response.HasStarted)
        {
            return;
        }

        var route = context.GetReverseProxyFeature().Route.Config.RouteId;
        if (context.Features.Get<IHttpRequestTimeoutFeature>() is { RequestTimeoutToken.IsCancellationRequested: true })
        {
            // The request used up its RequestTimeouts budget (the timeout cancels RequestAborted too): the gateway cut
            // it, not the client.
            Log.UpstreamFailed(_logger, route, "RequestTimeout");
            await ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, TimeoutType, "Request timed out",
                "The request took longer than this route allows.");
            return;
        }

        if (IsClientGone(error.Error, context.RequestAborted))
        {
            // The client went away: nobody is listening for a body, and the upstream did nothing wrong. 499 (nginx's
            // "client closed request") keeps this out of the 5xx answers the request log reports as errors.
            Log.ClientGone(_logger, route, error.Error);
            context.Response.StatusCode = ClientClosedRequest;
            return;
        }

        Log.UpstreamFailed(_logger, route, error.Error.ToString());
        switch (error.Error)
        {
            case ForwarderError.RequestTimedOut:
                await ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, TimeoutType, "Upstream timed out",
                    "The upstream service did not answer in time.");
                break;
            case ForwarderError.NoAvailableDestinations:
                await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, UnavailableType, "No healthy upstream",
                    "Every destination of this route is unhealthy or none is configured.");
                break;
            case ForwarderError.RequestBodyClient when IsBodyTooLarge(error.Exception):
                await ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "urn:mdvgateway:problem:body-too-large", "Request body too large",
                    "The request body exceeds the size this route accepts.");
                break;
            case ForwarderError.RequestBodyClient or ForwarderError.UpgradeRequestClient:
                await ProblemResponse.WriteAsync(context, StatusCodes.Status400BadRequest, "urn:mdvgateway:problem:bad-request-body", "Bad request body",
                    "The request body could not be read.");
                break;
            default:
                await ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, UnavailableType, "Upstream unavailable",
                    "The upstream service could not be reached or failed to answer.");
                break;
        }
    }

    /// <summary>
    /// The client cancelled or dropped the request; the upstream did not fail. A cancellation counts only when the
    /// client's connection is gone too: YARP also cancels a response body that stalls past the activity timeout.
    /// </summary>
    internal static bool IsClientGone(ForwarderError error, CancellationToken requestAborted)
        => requestAborted.IsCancellationRequested
            && error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled
                or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled;

    private static bool IsBodyTooLarge(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Upstream of route {RouteId} failed: {Error}")]
        public static partial void UpstreamFailed(ILogger logger, string routeId, string error);

        [LoggerMessage(EventId = 7002, Level = LogLevel.Debug, Message = "Client of route {RouteId} went away before its answer was delivered: {Error}")]
        public static partial void ClientGone(ILogger logger, string routeId, ForwarderError error);
    }
}
