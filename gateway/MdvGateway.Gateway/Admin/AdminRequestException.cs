using System.Text.Json;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// A request the admin API refuses (bad input, too large, wrong media type, no such ban). Thrown from deep inside a
/// handler and turned into a problem answer by <see cref="AdminErrorMiddleware"/>; the message is shown to the caller,
/// so it never carries anything but what the caller sent.
/// </summary>
internal sealed class AdminRequestException : Exception
{
    public AdminRequestException()
        : this(StatusCodes.Status400BadRequest, "Bad request.")
    {
    }

    public AdminRequestException(string message)
        : this(StatusCodes.Status400BadRequest, message)
    {
    }

    public AdminRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = StatusCodes.Status400BadRequest;
    }

    public AdminRequestException(int statusCode, string message, Action<Utf8JsonWriter>? extensions = null)
        : base(message)
    {
        StatusCode = statusCode;
        Extensions = extensions;
    }

    public int StatusCode { get; }

    public Action<Utf8JsonWriter>? Extensions { get; }

    public static AdminRequestException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, detail);

    public static AdminRequestException NotFound(string detail) => new(StatusCodes.Status404NotFound, detail);
}
