using System.Text.Json.Serialization;

namespace AnyDefNet.Internal;

/// <summary>Source-generated JSON metadata for the library's own messages (host configuration, shared cache entries, spec
/// hashes), so none of them needs reflection; <see cref="Dictionary{TKey, TValue}"/> values may be any of the listed types.</summary>
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(double))]
internal sealed partial class LibraryJson : JsonSerializerContext;
