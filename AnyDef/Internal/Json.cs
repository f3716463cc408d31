using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AnyDefNet.Internal.Values;

namespace AnyDefNet.Internal;

/// <summary>How values cross into Python: records as snake_case objects, enums by name, big integers exactly.</summary>
internal static class Json
{
    internal const string ReflectionMessage =
        "Arguments and results are serialized with reflection over TArgs and TResult, which trimming and Native AOT do not keep. " +
        "In a trimmed or Native AOT app declare the function as an [AnyDef] partial method (its JSON metadata is generated at " +
        "compile time) or use AnyDef.FromSignature with JSON arguments.";

    /// <summary>The one nesting limit of every hop (the .NET reader and writer, the host, Python's json): deeper data is a
    /// typed error for that call alone.</summary>
    public const int MaxDepth = 256;

    private static JsonSerializerOptions? s_reflection;

    /// <summary>The options of functions declared with <c>AnyDef.Function</c>: every type through reflection.</summary>
    public static JsonSerializerOptions Options
    {
        [RequiresUnreferencedCode(ReflectionMessage)]
        [RequiresDynamicCode(ReflectionMessage)]
        get => s_reflection ??= CreateReflectionOptions();
    }

    /// <summary>The big-integer converter (exact, as a JSON number of any length).</summary>
    public static JsonConverter<BigInteger> BigInteger { get; } = new BigIntegerConverter();

    [RequiresUnreferencedCode(ReflectionMessage)]
    [RequiresDynamicCode(ReflectionMessage)]
    private static JsonSerializerOptions CreateReflectionOptions()
    {
        var options = Create(new DefaultJsonTypeInfoResolver());
        options.Converters.Add(new EnumJsonFactory());
        options.MakeReadOnly();
        return options;
    }

    /// <summary>The options of an <see cref="AnyDefAttribute"/> method: the metadata the source generator wrote for its
    /// collections and enums, the application's <see cref="JsonSerializerContext"/> for its records, built-in metadata for
    /// scalars, and reflection only where the application allows it (never in a trimmed or Native AOT app).</summary>
    /// <param name="generated">The generated metadata, or null.</param>
    /// <param name="context">The application's context, or null.</param>
    /// <param name="allowReflection">False to build the options a trimmed or Native AOT app gets even where reflection is on.</param>
    public static JsonSerializerOptions ForDeclared(Func<Type, JsonSerializerOptions, JsonTypeInfo?>? generated, IJsonTypeInfoResolver? context,
        bool allowReflection = true)
    {
        var resolvers = new List<IJsonTypeInfoResolver>();
        if (generated is not null) resolvers.Add(new DelegateResolver(generated));
        if (context is not null) resolvers.Add(context);
        resolvers.Add(ScalarJson.Resolver);
        var reflection = allowReflection ? ReflectionFallback() : null;
        if (reflection is not null) resolvers.Add(reflection);
        var options = Create(JsonTypeInfoResolver.Combine([.. resolvers]));
        if (reflection is not null && StringEnums() is { } enums) options.Converters.Add(enums);
        options.MakeReadOnly();
        return options;
    }

    /// <summary>The metadata of <typeparamref name="T"/> in options made by <see cref="ForDeclared"/>, or an error that says how
    /// to provide it.</summary>
    /// <exception cref="NotSupportedException">No resolver knows the type (a record with no source-generated metadata in a
    /// trimmed or Native AOT app).</exception>
    public static JsonTypeInfo<T> TypeInfo<T>(JsonSerializerOptions options)
    {
        try
        {
            return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        }
        catch (NotSupportedException ex)
        {
            throw new NotSupportedException(
                $"There is no JSON metadata for {typeof(T).Name}. In a trimmed or Native AOT app, list the type in a JsonSerializerContext " +
                $"([JsonSerializable(typeof({typeof(T).Name}))] on a partial class deriving from JsonSerializerContext) and name that context " +
                "in [AnyDefDefaults(JsonContext = typeof(...))] on the class that declares the method or on the assembly.", ex);
        }
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reflection is used only where the application allows it " +
        "(JsonSerializer.IsReflectionEnabledByDefault); trimmed and Native AOT apps turn it off, and the trimmer then removes this branch.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "As above: only when reflection-based serialization is enabled.")]
    private static DefaultJsonTypeInfoResolver? ReflectionFallback() =>
        JsonSerializer.IsReflectionEnabledByDefault ? new DefaultJsonTypeInfoResolver() : null;

    // Enums the generated metadata does not list (inside a type read by reflection) are written by name too.
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Only where reflection-based serialization is enabled and dynamic code is supported.")]
    private static EnumJsonFactory? StringEnums() =>
        System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported ? new EnumJsonFactory() : null;

    // Strict both ways: member names exactly snake_case, no unknown or missing member, no null where the C# type forbids it.
    private static JsonSerializerOptions Create(IJsonTypeInfoResolver resolver) => new(JsonSerializerDefaults.General)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        MaxDepth = MaxDepth,
        Converters = { BigInteger, FloatJson.Double, FloatJson.Single, FloatJson.Half, DecimalJson.Instance, StringJson.Instance, CharJson.Instance },
        NumberHandling = JsonNumberHandling.Strict,
        AllowTrailingCommas = false,
        TypeInfoResolver = resolver.WithAddedModifier(RequireEveryMember),
    };

    // A member Python leaves out is an error, never the C# default.
    private static void RequireEveryMember(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object) return;
        foreach (var p in info.Properties)
        {
            if (p.Set is not null || p.AssociatedParameter is not null) p.IsRequired = true;
        }
    }

    private sealed class DelegateResolver(Func<Type, JsonSerializerOptions, JsonTypeInfo?> resolve) : IJsonTypeInfoResolver
    {
        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options) => resolve(type, options);
    }

    private sealed class BigIntegerConverter : JsonConverter<BigInteger>
    {
        public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.Number) throw new JsonException($"Expected an integer, got {reader.TokenType}.");
            var text = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
            return System.Numerics.BigInteger.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new JsonException($"'{text}' is not an integer.");
        }

        public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) =>
            writer.WriteRawValue(value.ToString(System.Globalization.CultureInfo.InvariantCulture), skipInputValidation: true);
    }
}
