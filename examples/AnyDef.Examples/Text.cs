using AnyDefNet;

/// <summary>Functions declared as methods: the signature and the documentation are the spec; AnyDef writes the bodies.</summary>
public static partial class Text
{
    /// <summary>Write the number in Roman numerals (subtractive notation, 1 to 3999).</summary>
    /// <example><code>ToRoman(1994) == "MCMXCIV"</code></example>
    [AnyDef]
    public static partial string ToRoman(int number);

    /// <summary>Count the words of the text: runs of letters, digits and apostrophes.</summary>
    /// <example><code>CountWordsAsync("It's a fine day, isn't it?") == 6</code></example>
    [AnyDef]
    public static partial Task<int> CountWordsAsync(string text, CancellationToken cancellationToken = default);

    // The same function as the AnyDef.Define<SlugArgs, string>("slugify", ...) in Program.cs: same name, parameters and
    // description, so the same spec hash, and both read the same stored file.
    [AnyDef("Turn a title into a URL slug: lower-case ASCII, accents removed, runs of other characters become one hyphen, " +
            "no leading or trailing hyphen, at most max_len characters (cut at a hyphen when possible).")]
    public static partial string Slugify(string title, int maxLen);
}
