using System.ComponentModel;
using System.Reflection;
using AnyDefNet.Generation;
using AnyDefNet.Internal;

namespace AnyDefNet.Generated;

/// <summary>
/// The function behind one <see cref="AnyDefAttribute"/> method: its spec, built from the method at compile time, and
/// its runtime. The source generator writes one per method; tools find them with <see cref="FindAll"/>.
/// </summary>
/// <remarks>Options: what the application gave <see cref="AnyDef.Configure"/>, else the <see cref="AnyDefDefaultsAttribute"/>
/// of the declaring class (or an outer class), else the assembly's, else <see cref="AnyDefOptions.Default"/>.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class DeclaredFunction
{
    private AnyDefOptions? _declaredDefaults;

    private protected DeclaredFunction(Type declaringType)
    {
        ArgumentNullException.ThrowIfNull(declaringType);
        DeclaringType = declaringType;
    }

    /// <summary>The type that declares the method.</summary>
    public Type DeclaringType { get; }

    /// <summary>What the model is (or was) asked to write; its hash names the stored file.</summary>
    public abstract FunctionSpec Spec { get; }

    /// <summary>The settings the next call runs with.</summary>
    public AnyDefOptions Options => AnyDef.ConfiguredOptions ?? DeclaredDefaults;

    internal abstract SpecChecks Checks { get; }

    /// <summary>Calls the function with packed arguments; returns its result, converted to the declared type, as JSON.</summary>
    internal abstract Task<string> InvokeJsonAsync(string packedArguments, CancellationToken cancellationToken);

    private AnyDefOptions DeclaredDefaults => _declaredDefaults ??= ReadDefaults(DeclaringType);

    private static AnyDefOptions ReadDefaults(Type type)
    {
        var attributes = new List<AnyDefDefaultsAttribute>();
        if (type.Assembly.GetCustomAttribute<AnyDefDefaultsAttribute>() is { } assemblyDefaults) attributes.Add(assemblyDefaults);
        var nesting = new List<Type>();
        for (var t = type; t is not null; t = t.DeclaringType) nesting.Insert(0, t);
        attributes.AddRange(nesting.Select(t => t.GetCustomAttribute<AnyDefDefaultsAttribute>()).OfType<AnyDefDefaultsAttribute>());
        return attributes.Aggregate(AnyDefOptions.Default, (options, a) => a.ApplyTo(options));
    }

    /// <summary>Every <see cref="AnyDefAttribute"/> function an assembly declares, in declaration order (for tools such as
    /// <c>anydef check</c>; it uses reflection).</summary>
    /// <param name="assembly">An assembly built with the AnyDef source generator.</param>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode("Finds the declarations through reflection over the assembly's nested types and static fields, for tools that load a built assembly.")]
    public static IReadOnlyList<DeclaredFunction> FindAll(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        const BindingFlags any = BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public;
        return [.. assembly.GetCustomAttributes<AnyDefDeclarationAttribute>().Select(a =>
        {
            var path = a.FieldName.Split('.');
            var type = path[..^1].Aggregate((Type?)a.DeclaringType, (t, name) => t?.GetNestedType(name, any));
            return type?.GetField(path[^1], any)?.GetValue(null);
        }).OfType<DeclaredFunction>()];
    }

    /// <summary>Shows the function as <c>python_name (DeclaringType)</c>.</summary>
    public override string ToString() => $"{Spec.Name} ({DeclaringType.Name})";
}
