using System.ClientModel;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AnyDefNet.Agents;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AnyDefExamples;

/// <summary>
/// An agent that answers a question by running Python: the model gets the run_python tool, Microsoft.Extensions.AI's
/// function invocation runs what it asks for in the sandbox and hands the result back. With OPENAI_API_KEY or
/// OPENAI_BASE_URL set, a real model answers; without, a scripted stand-in plays the model's part (so the example runs
/// anywhere), and the tool calls are real either way.
/// </summary>
internal static class Agent
{
    public const string Question = "What is the sum of the first 1000 prime numbers, and how many of them end in the digit 3?";

    public static async Task RunAsync(bool haveModel)
    {
        await using var runner = new PythonRunner();
        IChatClient model = haveModel ? RealModel() : new ScriptedModel();
        using var agent = new ChatClientBuilder(model).UseFunctionInvocation().Build();
        var options = new ChatOptions { Tools = [AnyDefTools.RunPython(runner)] };
        List<ChatMessage> messages =
        [
            new(ChatRole.System, "Answer with the help of the run_python tool: compute, do not guess."),
            new(ChatRole.User, Question),
        ];

        var reply = await agent.GetResponseAsync(messages, options);

        Console.WriteLine($"agent ({(haveModel ? "a real model" : "a scripted stand-in for a model; set OPENAI_API_KEY or OPENAI_BASE_URL for a real one")})");
        Console.WriteLine($"  question: {Question}");
        foreach (var call in reply.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>())
        {
            Console.WriteLine($"  ran {call.Name}: {call.Arguments?["code"]?.ToString()?.ReplaceLineEndings(" / ")}");
        }

        Console.WriteLine($"  answer: {reply.Text}");
    }

    private static IChatClient RealModel()
    {
        var key = Environment.GetEnvironmentVariable("OPENAI_API_KEY") is { Length: > 0 } k ? k : "none";
        var options = new OpenAIClientOptions();
        if (Environment.GetEnvironmentVariable("OPENAI_BASE_URL") is { Length: > 0 } url) options.Endpoint = new Uri(url);
        var name = Environment.GetEnvironmentVariable("ANYDEF_MODEL") is { Length: > 0 } m ? m : "gpt-4o-mini";
        return new OpenAI.Chat.ChatClient(name, new ApiKeyCredential(key), options).AsIChatClient();
    }

    /// <summary>Plays the model: first asks for a cell of Python, then answers from what the tool returned.</summary>
    private sealed class ScriptedModel : IChatClient
    {
        private const string Code = """
            primes, n = [], 2
            while len(primes) < 1000:
                if all(n % p for p in primes if p * p <= n):
                    primes.append(n)
                n += 1
            {"sum": sum(primes), "ending_in_3": sum(1 for p in primes if p % 10 == 3)}
            """;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var result = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().LastOrDefault();
            if (result is null)
            {
                var call = new FunctionCallContent("call_1", "run_python", new Dictionary<string, object?> { ["code"] = Code });
                return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, [call])));
            }

            var value = JsonSerializer.SerializeToElement(result.Result).GetProperty("result");
            var text = $"The first 1000 primes add up to {value.GetProperty("sum")}; {value.GetProperty("ending_in_3")} of them end in 3.";
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)));
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            foreach (var update in (await GetResponseAsync(messages, options, cancellationToken)).ToChatResponseUpdates()) yield return update;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
