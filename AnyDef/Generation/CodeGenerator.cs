using System.ClientModel;
using AnyDefNet.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Generation;

/// <summary>
/// Asks a chat model for a function and checks the answer in the sandbox before anyone uses it: the code must
/// compile, define the function with the declared parameters, return results that fit the declared type, and
/// reproduce every example (given ones and doctests in the description). A failed check goes back to the model
/// with the exact failure, up to <see cref="AnyDefOptions.MaxAttempts"/> times.
/// </summary>
internal sealed class CodeGenerator(IChatClient client, string model, PythonSandbox sandbox, TimeSpan callTimeout, ILogger logger)
{
    public async Task<string> GenerateAsync(FunctionSpec spec, SpecChecks checks, int maxAttempts, TimeSpan modelTimeout, CancellationToken cancellationToken)
    {
        var messages = Prompt.For(spec, await sandbox.GetPackagesAsync(cancellationToken).ConfigureAwait(false));
        var attempts = new List<GenerationAttempt>();
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            var reply = await AskAsync(messages, modelTimeout, cancellationToken).ConfigureAwait(false);
            var code = CodeExtractor.Extract(reply, spec.Name);
            var problem = code is null
                ? $"The reply contains no Python function named `{spec.Name}`. Reply with the complete function in one ```python block."
                : await CodeCheck.RunAsync(sandbox, callTimeout, spec, code, checks, cancellationToken).ConfigureAwait(false);
            if (problem is null) return code!;

            if (code is not null) await sandbox.ForgetAsync(code, spec.Name).ConfigureAwait(false);
            logger.LogInformation("Generated code for {Function} failed its check (attempt {Attempt} of {Max}): {Problem}", spec.Name, attempt, maxAttempts, problem);
            attempts.Add(new GenerationAttempt(reply, code, problem));
            messages.Add(new ChatMessage(ChatRole.Assistant, reply));
            messages.Add(new ChatMessage(ChatRole.User, problem + "\nFix it and reply with the complete corrected code."));
        }

        throw new CodeGenerationException(
            $"The model '{model}' gave no usable code for '{spec.Name}' in {maxAttempts} attempt(s): " +
            string.Join("; ", attempts.Select((a, i) => $"attempt {i + 1}: {FirstLine(a.Failure)}")) +
            ". Make the description more precise, try a stronger model, or write the function by hand in the store.",
            spec.Name, attempts);
    }

    private static string FirstLine(string s) => s.Split('\n')[0];

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
            throw new ModelException($"The model '{model}' did not answer within {timeout.TotalSeconds:0.#} s. Try again, or raise {nameof(AnyDefOptions)}.{nameof(AnyDefOptions.ModelTimeout)}.", model, null);
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
