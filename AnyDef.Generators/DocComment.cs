using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace AnyDefNet.Generators;

/// <summary>
/// The XML documentation of a method, read from its syntax trivia: with GenerateDocumentationFile off (the default)
/// the compiler keeps no documentation XML, but the comment is still in the source.
/// </summary>
internal sealed class DocComment
{
    private readonly XElement? _root;

    private DocComment(XElement? root, bool malformed)
    {
        _root = root;
        Malformed = malformed;
    }

    public bool Malformed { get; }

    public static DocComment Read(SyntaxNode declaration)
    {
        var lines = new List<string>();
        foreach (var trivia in declaration.GetLeadingTrivia())
        {
            if (trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineDocumentationCommentTrivia) ||
                trivia.IsKind(SyntaxKind.SingleLineCommentTrivia) || trivia.IsKind(SyntaxKind.MultiLineCommentTrivia))
            {
                foreach (var raw in trivia.ToFullString().Replace("\r\n", "\n").Split('\n'))
                {
                    var line = raw.TrimStart();
                    if (line.StartsWith("///", StringComparison.Ordinal)) lines.Add(Unprefix(line.Substring(3)));
                    else if (line.StartsWith("/**", StringComparison.Ordinal)) lines.Add(Unprefix(line.Substring(3)));
                    else if (line.StartsWith("*/", StringComparison.Ordinal)) continue;
                    else if (line.StartsWith("*", StringComparison.Ordinal) && trivia.IsKind(SyntaxKind.MultiLineDocumentationCommentTrivia)) lines.Add(Unprefix(line.Substring(1)));
                    else if (trivia.IsKind(SyntaxKind.MultiLineDocumentationCommentTrivia)) lines.Add(raw);
                }
            }
        }

        if (lines.Count == 0) return new DocComment(null, false);
        var text = string.Join("\n", lines);
        if (text.EndsWith("*/", StringComparison.Ordinal)) text = text.Substring(0, text.Length - 2);
        try
        {
            return new DocComment(XElement.Parse("<doc>" + text + "</doc>", LoadOptions.PreserveWhitespace), false);
        }
        catch (XmlException)
        {
            return new DocComment(null, true);
        }
    }

    private static string Unprefix(string line) => line.StartsWith(" ", StringComparison.Ordinal) ? line.Substring(1) : line;

    public string? Summary => Text(_root?.Element("summary"));

    public string? Remarks => Text(_root?.Element("remarks"));

    public string? Returns => Text(_root?.Element("returns"));

    public string? Param(string name) => Text(_root?.Elements("param").FirstOrDefault(p => (string?)p.Attribute("name") == name));

    /// <summary>The lines of every &lt;example&gt; (the text of its &lt;code&gt; blocks when it has some).</summary>
    public IEnumerable<string> ExampleLines()
    {
        foreach (var example in _root?.Elements("example") ?? [])
        {
            var codes = example.Descendants("code").ToList();
            var text = codes.Count > 0 ? string.Join("\n", codes.Select(c => c.Value)) : example.Value;
            foreach (var line in text.Split('\n'))
            {
                var trimmed = line.Trim();
                if (trimmed.Length > 0) yield return trimmed;
            }
        }
    }

    private static string? Text(XElement? element)
    {
        if (element is null) return null;
        var builder = new StringBuilder();
        Append(builder, element);
        var lines = builder.ToString().Replace("\r\n", "\n").Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0) lines.RemoveAt(0);
        while (lines.Count > 0 && lines[lines.Count - 1].Length == 0) lines.RemoveAt(lines.Count - 1);
        if (lines.Count == 0) return null;
        var indent = lines.Where(l => l.Length > 0).Min(l => l.Length - l.TrimStart().Length);
        var result = new List<string>();
        foreach (var line in lines.Select(l => l.Length >= indent ? l.Substring(indent) : l))
        {
            if (line.Length == 0 && result.Count > 0 && result[result.Count - 1].Length == 0) continue;
            result.Add(line);
        }

        return string.Join("\n", result);
    }

    private static void Append(StringBuilder builder, XElement element)
    {
        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XText text:
                    builder.Append(text.Value);
                    break;
                case XElement { Name.LocalName: "see" or "seealso" } see:
                    builder.Append((string?)see.Attribute("langword") switch
                    {
                        "null" => "None",
                        "true" => "True",
                        "false" => "False",
                        { } word => word,
                        null => see.Value.Length > 0 ? see.Value : CrefName((string?)see.Attribute("cref") ?? (string?)see.Attribute("href") ?? ""),
                    });
                    break;
                case XElement { Name.LocalName: "paramref" } p:
                    builder.Append(PythonNaming.Snake((string?)p.Attribute("name") ?? ""));
                    break;
                case XElement { Name.LocalName: "typeparamref" } t:
                    builder.Append((string?)t.Attribute("name"));
                    break;
                case XElement { Name.LocalName: "para" } para:
                    builder.Append("\n\n");
                    Append(builder, para);
                    builder.Append("\n\n");
                    break;
                case XElement { Name.LocalName: "br" }:
                    builder.Append('\n');
                    break;
                case XElement { Name.LocalName: "item" } item:
                    builder.Append("\n- ");
                    Append(builder, item);
                    break;
                case XElement other:
                    Append(builder, other);
                    break;
            }
        }
    }

    private static string CrefName(string cref)
    {
        var name = cref.Contains(':') ? cref.Substring(cref.IndexOf(':') + 1) : cref;
        var paren = name.IndexOf('(');
        if (paren >= 0) name = name.Substring(0, paren);
        return name.Substring(name.LastIndexOf('.') + 1);
    }
}
