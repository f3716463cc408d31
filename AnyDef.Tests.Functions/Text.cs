namespace AnyDefNet.Tests.Functions;

/// <summary>Text functions declared the way the README shows.</summary>
public static partial class Text
{
    /// <summary>Lower-case the title, drop accents, and join its words with single hyphens.</summary>
    /// <param name="title">The title to turn into a slug.</param>
    /// <param name="maxLength">Cut the slug at this many characters, on a hyphen.</param>
    /// <example><code>Slugify("Crème Brûlée: A Love Story!") == "creme-brulee-a-love-story"</code></example>
    [AnyDef]
    public static partial string Slugify(string title, int maxLength = 40);

    [AnyDef("Count the words of the text.")]
    public static partial Task<int> CountWordsAsync(string text, CancellationToken cancellationToken = default);

    /// <summary>Return the initials of each name, upper-case, in order.</summary>
    [AnyDef]
    public static partial ValueTask<List<string>> InitialsAsync(IReadOnlyList<string> names, CancellationToken cancellationToken = default);

    /// <summary>Return the word, or None when it is empty.</summary>
    [AnyDef(Name = "maybe_word")]
    public static partial string? MaybeWord(string word);
}
