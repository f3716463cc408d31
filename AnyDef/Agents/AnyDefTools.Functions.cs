using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using AnyDefNet.Generated;
using AnyDefNet.Internal;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Agents;

public static partial class AnyDefTools
{
    /// <summary>Offers a declared function to a model as a tool: its Python name, its description, and a JSON schema of its
    /// parameters made from its spec. The model's arguments are checked against the schema; the result is the function's,
    /// converted to <typeparamref name="TResult"/>; an error the function raises is sent back to the model as <c>{"error": ...}</c>.</summary>
    [RequiresUnreferencedCode(Json.ReflectionMessage)]
    [RequiresDynamicCode(Json.ReflectionMessage)]
    public static AIFunction AsAIFunction<TArgs, TResult>(this AnyDefFunction<TArgs, TResult> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new FunctionTool(function.Spec, function.InvokeJsonAsync);
    }

    /// <summary>Offers a function declared by a Python signature to a model as a tool (see
    /// <see cref="AsAIFunction{TArgs, TResult}(AnyDefFunction{TArgs, TResult})"/>).</summary>
    public static AIFunction AsAIFunction(this AnyDefDynamicFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new FunctionTool(function.Spec, function.InvokeJsonAsync);
    }

    /// <summary>Offers an <see cref="AnyDefAttribute"/> method to a model as a tool (see
    /// <see cref="AsAIFunction{TArgs, TResult}(AnyDefFunction{TArgs, TResult})"/>); find it with <see cref="DeclaredFunction.FindAll"/>
    /// or take every one of an assembly with <see cref="FromAssembly"/>.</summary>
    public static AIFunction AsAIFunction(this DeclaredFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new FunctionTool(function.Spec, function.InvokeJsonAsync);
    }

    /// <summary>Every <see cref="AnyDefAttribute"/> method an assembly declares, each as a tool.</summary>
    [RequiresUnreferencedCode("Finds the declarations through reflection over the assembly's nested types and static fields.")]
    public static IReadOnlyList<AIFunction> FromAssembly(Assembly assembly) =>
        [.. DeclaredFunction.FindAll(assembly).Select(f => f.AsAIFunction())];
}
