using System.Collections;
using System.Globalization;
using System.Reflection;

namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// Walks a configuration section against the options type it binds to and reports, with full paths, every key
/// the type does not have and every value that does not convert. The framework binder stops at the first
/// unknown key and silently ignores most others; an SRE fixing a typo at 3 a.m. needs the whole list at once.
/// </summary>
internal static class StrictConfigurationChecker
{
    /// <param name="section">The section to check.</param>
    /// <param name="type">The options type it binds to.</param>
    /// <param name="problems">Receives one line per problem, starting with the configuration path.</param>
    /// <returns>The paths of the offending keys, so callers can bind the rest and still check it.</returns>
    public static IReadOnlyList<string> Check(IConfigurationSection section, Type type, ICollection<string> problems)
    {
        var found = new List<(string Path, string Problem)>();
        CheckNode(section, type, found);
        foreach (var (_, problem) in found)
        {
            problems.Add(problem);
        }

        return found.Select(f => f.Path).ToList();
    }

    private static void CheckNode(IConfigurationSection section, Type type, List<(string Path, string Problem)> problems)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        var children = section.GetChildren().ToList();

        if (IsScalar(underlying))
        {
            if (children.Count > 0)
            {
                problems.Add((section.Path, $"{section.Path}: expected a single {Describe(underlying)} value, found an object or list"));
                return;
            }

            if (section.Value is { } value && !TryConvert(value, underlying))
            {
                problems.Add((section.Path, SecretSettings.HoldsSecret(section.Path)
                    ? $"{section.Path}: the value is not a valid {Describe(underlying)}"
                    : $"{section.Path}: '{value}' is not a valid {Describe(underlying)}"));
            }

            return;
        }

        if (section.Value is { Length: > 0 } && children.Count == 0)
        {
            // Under a secret setting the value is not echoed: it may be a secret pasted one level too high
            // ("ApiKeys": "<hash>", "RabbitMq": "amqp://user:password@host").
            problems.Add((section.Path, $"{section.Path}: expected {(IsCollection(underlying, out _) ? "a list" : "an object")}, found {Quote(section)}"));
            return;
        }

        if (TryGetDictionaryValueType(underlying, out var dictionaryValue))
        {
            foreach (var child in children)
            {
                CheckNode(child, dictionaryValue, problems);
            }

            return;
        }

        if (IsCollection(underlying, out var elementType))
        {
            foreach (var child in children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    problems.Add((child.Path, $"{child.Path}: expected a list, found the key '{child.Key}'"));
                    continue;
                }

                CheckNode(child, elementType, problems);
            }

            return;
        }

        foreach (var child in children)
        {
            var property = underlying.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanRead)
            {
                problems.Add((child.Path, $"{child.Path}: unknown key '{child.Key}' (known keys: {string.Join(", ", KnownKeys(underlying))})"));
                continue;
            }

            CheckNode(child, property.PropertyType, problems);
        }
    }

    private static string Quote(IConfigurationSection section)
        => SecretSettings.IsSecret(section.Path) ? "a single value" : $"the value '{section.Value}'";

    private static IEnumerable<string> KnownKeys(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name);

    private static bool IsScalar(Type type)
        => type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan)
           || type == typeof(decimal) || type == typeof(DateTimeOffset) || type == typeof(Uri);

    private static bool TryConvert(string value, Type type)
    {
        if (type == typeof(string))
        {
            return true;
        }

        if (type.IsEnum)
        {
            // Only member names: "Mode": 1 or "Allow,Reject" (flag syntax) is never what anyone means.
            return Enum.GetNames(type).Any(name => string.Equals(name, value.Trim(), StringComparison.OrdinalIgnoreCase));
        }

        if (type == typeof(TimeSpan))
        {
            return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(bool))
        {
            return bool.TryParse(value, out _);
        }

        if (type == typeof(int))
        {
            return int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(long))
        {
            return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(double))
        {
            return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        }

        if (type == typeof(Uri))
        {
            return Uri.TryCreate(value, UriKind.RelativeOrAbsolute, out _);
        }

        var converter = System.ComponentModel.TypeDescriptor.GetConverter(type);
        try
        {
            _ = converter.ConvertFromInvariantString(value);
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
        _ when type == typeof(int) || type == typeof(long) => "whole number",
        _ when type == typeof(bool) => "boolean (true or false)",
        _ when type.IsEnum => $"value (one of {string.Join(", ", Enum.GetNames(type))})",
        _ => type.Name,
    };

    private static bool TryGetDictionaryValueType(Type type, out Type valueType)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is not null && dictionary.GetGenericArguments()[0] == typeof(string))
        {
            valueType = dictionary.GetGenericArguments()[1];
            return true;
        }

        valueType = typeof(object);
        return false;
    }

    private static bool IsCollection(Type type, out Type elementType)
    {
        if (type.IsArray)
        {
            elementType = type.GetElementType()!;
            return true;
        }

        if (type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type))
        {
            elementType = type.GetGenericArguments()[0];
            return true;
        }

        elementType = typeof(object);
        return false;
    }
}
