using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace MdvGateway.Gateway.Admin;

/// <summary>Reads request bodies with a size cap and a strict media type, so nothing oversized or mislabelled is parsed.</summary>
internal static class AdminRequestBody
{
    /// <summary>Cap for single-ban requests (POST, PATCH).</summary>
    public const int MaxSingleBytes = 64 * 1024;

    /// <summary>Cap for imports.</summary>
    public const int MaxImportBytes = 5 * 1024 * 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public enum Format
    {
        Json,
        Csv,
    }

    /// <summary>The body's format from <c>Content-Type</c>: JSON (<c>application/json</c> or <c>*/*+json</c>) or, where allowed, <c>text/csv</c>; UTF-8 only.</summary>
    public static Format RequireFormat(HttpRequest request, bool allowCsv)
    {
        var expected = allowCsv ? "application/json or text/csv (UTF-8)" : "application/json (UTF-8)";
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var media))
        {
            throw new AdminRequestException(StatusCodes.Status415UnsupportedMediaType, $"Content-Type must be {expected}.");
        }

        if (media.Charset.HasValue && !media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !media.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw new AdminRequestException(StatusCodes.Status415UnsupportedMediaType, $"Content-Type must be {expected}; charset '{media.Charset}' is not supported.");
        }

        if (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
        {
            return Format.Json;
        }

        if (allowCsv && media.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            return Format.Csv;
        }

        throw new AdminRequestException(StatusCodes.Status415UnsupportedMediaType, $"Content-Type must be {expected}.");
    }

    /// <summary>The whole body, refused with 413 past <paramref name="limit"/> bytes (declared or actually sent) and 400 when empty.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpRequest request, int limit)
    {
        if (request.ContentLength > limit)
        {
            throw TooLarge(limit);
        }

        var body = new ArrayBufferWriter<byte>((int)Math.Min(request.ContentLength ?? 4096, limit) + 1);
        while (true)
        {
            var memory = body.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, request.HttpContext.RequestAborted);
            if (read == 0)
            {
                break;
            }

            body.Advance(read);
            if (body.WrittenCount > limit)
            {
                throw TooLarge(limit);
            }
        }

        if (body.WrittenCount == 0)
        {
            throw AdminRequestException.BadRequest("A request body is required.");
        }

        return body.WrittenMemory;
    }

    public static string DecodeUtf8(ReadOnlyMemory<byte> body)
    {
        try
        {
            return StrictUtf8.GetString(body.Span);
        }
        catch (DecoderFallbackException)
        {
            throw AdminRequestException.BadRequest("The body is not valid UTF-8.");
        }
    }

    private static AdminRequestException TooLarge(int limit)
        => new(StatusCodes.Status413PayloadTooLarge,
            string.Create(CultureInfo.InvariantCulture, $"The request body exceeds {limit} bytes."),
            writer => writer.WriteNumber("maxBytes", limit));
}
