using System.Globalization;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace MdvGateway.Gateway.Proxy;

/// <summary>
/// Refuses a request whose declared <c>Content-Length</c> exceeds its body limit (<c>Kestrel:Limits:MaxRequestBodySize</c>,
/// or the route's <c>MaxRequestBodySize</c>) with 413 before anything is sent upstream. Kestrel alone would find out
/// only when the body is read, after YARP had already opened the upstream request. A chunked body has no declared length;
/// Kestrel still cuts it at the limit while it streams.
/// </summary>
internal sealed class RequestBodyLimitMiddleware(RequestDelegate next, RefusalLog refusals)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.ContentLength is long length && LimitOf(context) is long limit && length > limit)
        {
            refusals.Record(context, context.GetClientIdentity().Key, RefusalReasons.BodyTooLarge);
            return ProblemResponse.WriteAsync(
                context,
                StatusCodes.Status413PayloadTooLarge,
                "urn:mdvgateway:problem:body-too-large",
                "Request body too large",
                string.Create(CultureInfo.InvariantCulture, $"The request body of {length} bytes is over this route's limit of {limit} bytes."),
                writer => writer.WriteNumber("limit", limit));
        }

        return next(context);
    }

    /// <summary>
    /// The route's own limit (YARP applies it only when it forwards; -1 there means none), else the listener's.
    /// </summary>
    private static long? LimitOf(HttpContext context)
        => context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize is long route
            ? (route < 0 ? null : route)
            : context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
}
