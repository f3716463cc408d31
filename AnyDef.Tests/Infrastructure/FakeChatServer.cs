using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol. Each test scripts its replies
/// and reads back the requests it received (counted at the server, so client-side retries are visible).
/// </summary>
public sealed class FakeChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<JsonNode, FakeReply>> _script = new();
    private readonly ConcurrentQueue<JsonNode> _requests = new();
    private Func<JsonNode, FakeReply>? _fallback;

    private FakeChatServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<JsonNode> Requests => [.. _requests];

    public int RequestCount => _requests.Count;

    public static async Task<FakeChatServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeChatServer(app);
        app.MapPost("/v1/chat/completions", server.HandleAsync);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "fake-model", @object = "model" } } }));
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Urls.First() + "/v1");
        return server;
    }

    /// <summary>Queues one reply; replies are used in order, then the fallback (if any) answers.</summary>
    public FakeChatServer Then(FakeReply reply) => Then(_ => reply);

    public FakeChatServer Then(Func<JsonNode, FakeReply> reply)
    {
        _script.Enqueue(reply);
        return this;
    }

    public FakeChatServer Always(FakeReply reply) => Always(_ => reply);

    /// <summary>Answers every unscripted request by what it asks.</summary>
    public FakeChatServer Always(Func<JsonNode, FakeReply> reply)
    {
        _fallback = reply;
        return this;
    }

    /// <summary>The text of every user message the server received, joined.</summary>
    public string PromptOf(int request) =>
        string.Join("\n", Requests[request]["messages"]!.AsArray().Select(m => m!["content"]?.ToString()));

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) ?? new JsonObject();
        _requests.Enqueue(body);
        var reply = _script.TryDequeue(out var next) ? next(body) : _fallback?.Invoke(body)
            ?? FakeReply.Error(500, "the fake server has no scripted reply for this request");
        if (reply.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, context.RequestAborted);
        context.Response.StatusCode = reply.Status;
        foreach (var (k, v) in reply.Headers) context.Response.Headers[k] = v;
        context.Response.ContentType = "application/json";
        var payload = reply.Status == 200
            ? new JsonObject
            {
                ["id"] = "chatcmpl-fake",
                ["object"] = "chat.completion",
                ["created"] = 1_700_000_000,
                ["model"] = body["model"]?.ToString() ?? "fake-model",
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["message"] = reply.ToolCalls.Count == 0
                        ? new JsonObject { ["role"] = "assistant", ["content"] = reply.Content }
                        : new JsonObject
                        {
                            ["role"] = "assistant",
                            ["content"] = null,
                            ["tool_calls"] = new JsonArray([.. reply.ToolCalls.Select(c => (JsonNode)new JsonObject
                            {
                                ["id"] = c.Id,
                                ["type"] = "function",
                                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
                            })]),
                        },
                    ["finish_reason"] = reply.ToolCalls.Count == 0 ? "stop" : "tool_calls",
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = reply.InputTokens, ["completion_tokens"] = reply.OutputTokens, ["total_tokens"] = reply.InputTokens + reply.OutputTokens },
            }
            : new JsonObject { ["error"] = new JsonObject { ["message"] = reply.Content, ["type"] = "fake_error" } };
        await context.Response.WriteAsync(payload.ToJsonString());
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed record FakeReply(int Status, string Content)
{
    public TimeSpan Delay { get; init; }

    /// <summary>The token usage the reply reports.</summary>
    public int InputTokens { get; init; } = 1;

    public int OutputTokens { get; init; } = 1;

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Tool calls the reply asks for (then it has no text).</summary>
    public IReadOnlyList<FakeToolCall> ToolCalls { get; init; } = [];

    /// <summary>A reply that asks for one tool call, with its arguments as a JSON object.</summary>
    public static FakeReply ToolCall(string id, string name, object arguments) =>
        new(200, "") { ToolCalls = [new FakeToolCall(id, name, JsonSerializer.Serialize(arguments))] };

    public static FakeReply Code(string python) => new(200, $"Here is the function:\n\n```python\n{python.Trim()}\n```\n");

    public static FakeReply Text(string text) => new(200, text);

    public static FakeReply Error(int status, string message) => new(status, message);
}

/// <summary>One tool call of a scripted reply.</summary>
public sealed record FakeToolCall(string Id, string Name, string ArgumentsJson);
