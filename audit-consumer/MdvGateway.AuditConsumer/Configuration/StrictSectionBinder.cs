using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace MdvGateway.AuditConsumer.Configuration;

/// <summary>
/// Binds a flat options section and reports, with full paths, every key the options type does not have and every
/// value that does not convert. The framework binder ignores unknown keys and stops at the first bad value; an SRE
/// fixing a typo needs the whole list at once.
/// </summary>
internal static class StrictSectionBinder
{
    /// <summary>Binds <paramref name="section"/> onto a new <typeparamref name="T"/>, skipping (and reporting) bad keys.</summary>
    public static T Bind<T>(IConfigurationSection section, ICollection<string> problems)
        where T : class, new()
    {
        var options = new T();
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        foreach (var child in section.GetChildren())
        {
            var property = properties.Find(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                problems.Add($"{child.Path}: unknown key '{child.Key}' (known keys: {string.Join(", ", properties.Select(p => p.Name))})");
                continue;
            }

            if (child.GetChildren().Any())
            {
                problems.Add($"{child.Path}: expected a single {Describe(property.PropertyType)} value, found an object or list");
                continue;
            }

            if (child.Value is not { } text)
            {
                continue;
            }

            if (TryConvert(text, property.PropertyType, out var value))
            {
                property.SetValue(options, value);
            }
            else
            {
                problems.Add($"{child.Path}: '{text}' is not a valid {Describe(property.PropertyType)}");
            }
        }

        return options;
    }

    private static bool TryConvert(string text, Type type, out object? value)
    {
        value = null;
        if (type == typeof(string))
        {
            value = text;
            return true;
        }

        if (type == typeof(bool))
        {
            var ok = bool.TryParse(text, out var b);
            value = b;
            return ok;
        }

        if (type == typeof(int))
        {
            var ok = int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i);
            value = i;
            return ok;
        }

        if (type == typeof(ushort))
        {
            var ok = ushort.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var u);
            value = u;
            return ok;
        }

        if (type == typeof(TimeSpan))
        {
            var ok = TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var t);
            value = t;
            return ok;
        }

        try
        {
            value = TypeDescriptor.GetConverter(type).ConvertFromInvariantString(text);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException)
        {
            return false;
        }
    }

    private static string Describe(Type type) => type switch
    {
        _ when type == typeof(TimeSpan) => "duration (hh:mm:ss or d.hh:mm:ss)",
        _ when type == typeof(int) => "whole number",
        _ when type == typeof(ushort) => "port number (1-65535)",
        _ when type == typeof(bool) => "boolean (true or false)",
        _ => type.Name,
    };
}
