using System.ClientModel;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Generation;

/// <summary>
/// Asks a chat model for a function and checks the answer in the sandbox before anyone uses it: the code must
/// compile, define the function, and take the declared parameters. A failed check is sent back to the model with
/// the exact error, up to <see cref="AnyDefOptions.MaxAttempts"/> times.
/// </summary>
internal sealed class CodeGenerator(IChatClient client, string model, PythonSandbox sandbox, ILogger logger)
{
    public async Task<string> GenerateAsync(FunctionSpec spec, int maxAttempts, TimeSpan modelTimeout, CancellationToken cancellationToken)
    {
        var messages = Prompt.For(spec);
        var replies = new List<string>();
        var failures = new List<string>();
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var reply = await AskAsync(messages, modelTimeout, cancellationToken).ConfigureAwait(false);
            replies.Add(reply);
            var code = CodeExtractor.Extract(reply, spec.Name);
            var problem = code is null
                ? $"The reply contains no Python function named `{spec.Name}`. Reply with the complete function in one ```python block."
                : await CheckAsync(spec, code, cancellationToken).ConfigureAwait(false);
            if (problem is null) return code!;

            logger.LogInformation("Generated code for {Function} failed its check (attempt {Attempt} of {Max}): {Problem}", spec.Name, attempt, maxAttempts, problem);
            failures.Add($"attempt {attempt}: {problem}");
            messages.Add(new ChatMessage(ChatRole.Assistant, reply));
            messages.Add(new ChatMessage(ChatRole.User, problem + "\nFix it and reply with the complete corrected code."));
        }

        throw new CodeGenerationException(
            $"The model '{model}' gave no usable code for '{spec.Name}' in {maxAttempts} attempt(s): {string.Join("; ", failures)}. " +
            "Make the description more precise, try a stronger model, or write the function by hand in the store.",
            spec.Name, replies);
    }

    private async Task<string?> CheckAsync(FunctionSpec spec, string code, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> parameters;
        try
        {
            parameters = await sandbox.GetParametersAsync(code, spec.Name, cancellationToken).ConfigureAwait(false);
        }
        catch (PythonExecutionException ex)
        {
            return $"The code failed to load: {ex.PythonType}: {ex.PythonMessage}\n{ex.PythonTraceback}";
        }

        var expected = spec.Parameters.Select(p => p.PythonName).ToList();
        return parameters.Count == expected.Count
            ? null
            : $"`{spec.Name}` must take exactly these parameters: ({string.Join(", ", expected)}); the code declares ({string.Join(", ", parameters)}).";
    }

    private async Task<string> AskAsync(List<ChatMessage> messages, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            var response = await client.GetResponseAsync(messages, new ChatOptions { ModelId = model, Temperature = 0 }, cts.Token).ConfigureAwait(false);
            return response.Text ?? "";
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ModelException($"The model '{model}' did not answer within {timeout.TotalSeconds:0} s. Try again, or raise {nameof(AnyDefOptions)}.{nameof(AnyDefOptions.ModelTimeout)}.", model, null);
        }
        catch (ClientResultException ex)
        {
            throw new ModelException($"The model request failed with HTTP {ex.Status} (model '{model}'): {ex.Message} " + Advice(ex.Status), model, ex.Status, ex);
        }
        catch (HttpRequestException ex)
        {
            throw new ModelException($"The model server could not be reached (model '{model}'): {ex.Message} Check OPENAI_BASE_URL and the network.", model, (int?)ex.StatusCode, ex);
        }
    }

    private static string Advice(int status) => status switch
    {
        401 or 403 => "Check OPENAI_API_KEY.",
        404 => "Check the model name (ANYDEF_MODEL or the Model option) and OPENAI_BASE_URL.",
        429 => "The server is rate limiting; wait and try again.",
        >= 500 => "The server failed; try again later.",
        _ => "",
    };
}
