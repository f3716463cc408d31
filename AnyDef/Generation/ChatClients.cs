using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AnyDefNet.Generation;

/// <summary>Builds the default model client: the official OpenAI client, pointed at OpenAI or any compatible server.</summary>
internal static class ChatClients
{
    public const string DefaultModel = "gpt-4.1-mini";

    public static string ResolveModel(AnyDefOptions options) =>
        options.Model ?? NonEmpty(Environment.GetEnvironmentVariable("ANYDEF_MODEL")) ?? DefaultModel;

    public static IChatClient Create(AnyDefOptions options, string model)
    {
        var key = options.ApiKey ?? NonEmpty(Environment.GetEnvironmentVariable("OPENAI_API_KEY"));
        var endpoint = options.Endpoint ?? (NonEmpty(Environment.GetEnvironmentVariable("OPENAI_BASE_URL")) is { } url ? new Uri(url) : null);
        if (key is null && endpoint is null)
        {
            throw new ModelException(
                "No model is configured, so new functions cannot be generated. Set OPENAI_API_KEY (OpenAI), or OPENAI_BASE_URL " +
                $"(an OpenAI-compatible server such as vLLM, Ollama or LM Studio), or pass {nameof(AnyDefOptions)}.{nameof(AnyDefOptions.ChatClient)}. " +
                "To run only reviewed code from the store, set a store directory.", model, null);
        }

        // Retries of 429 and 5xx, with exponential backoff that honours Retry-After, come from the client's own
        // HTTP pipeline (System.ClientModel); the per-request timeout is ours (ModelTimeout), so the pipeline's is off.
        var clientOptions = new OpenAIClientOptions
        {
            RetryPolicy = new ClientRetryPolicy(options.ModelRetries),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        if (endpoint is not null) clientOptions.Endpoint = endpoint;
        // Local servers commonly need no key; the client still wants one.
        return new OpenAI.Chat.ChatClient(model, new ApiKeyCredential(key ?? "no-key"), clientOptions).AsIChatClient();
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
