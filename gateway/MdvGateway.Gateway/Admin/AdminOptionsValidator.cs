namespace MdvGateway.Gateway.Admin;

internal static class AdminOptionsValidator
{
    public static void Validate(AdminOptions options, ICollection<string> problems)
    {
        foreach (var url in SplitUrls(options.Urls))
        {
            // Kestrel's wildcard hosts (http://*:8081, http://+:8081) are valid binding addresses but not URIs.
            var checkable = url.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
            if (!Uri.TryCreate(checkable, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/")
            {
                problems.Add($"{AdminOptions.SectionName}:Urls: '{url}' is not an http(s)://host:port URL");
            }
        }

    }

    public static string[] SplitUrls(string? urls)
        => (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
