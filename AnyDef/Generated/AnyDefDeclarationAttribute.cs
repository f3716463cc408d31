using System.ComponentModel;

namespace AnyDefNet.Generated;

/// <summary>Lists one <see cref="AnyDefAttribute"/> method of the assembly, so <c>anydef generate</c> and <c>anydef check</c> find it.
/// Written by the AnyDef source generator; not for direct use.</summary>
/// <param name="declaringType">The top-level type around the method (nested types may be private to it).</param>
/// <param name="fieldName">The static field that holds the method's <see cref="DeclaredFunction"/>, after the names of the
/// nested types that lead to it (<c>Inner.__anyDef_Method</c>).</param>
[EditorBrowsable(EditorBrowsableState.Never)]
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true, Inherited = false)]
public sealed class AnyDefDeclarationAttribute(Type declaringType, string fieldName) : Attribute
{
    /// <summary>The top-level type around the method.</summary>
    public Type DeclaringType { get; } = declaringType;

    /// <summary>The path from <see cref="DeclaringType"/> to the static field that holds the method's <see cref="DeclaredFunction"/>.</summary>
    public string FieldName { get; } = fieldName;
}
