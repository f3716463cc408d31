namespace System.Runtime.CompilerServices;

// Lets records and init accessors compile on netstandard2.0, which Roslyn requires of analyzers.
internal static class IsExternalInit
{
}
