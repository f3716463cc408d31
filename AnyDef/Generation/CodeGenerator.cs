using System.ClientModel;
using System.Diagnostics;
using AnyDefNet.Internal;
using AnyDefNet.Telemetry;
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
    /// <summary>Generates checked code; returns it with the tokens every attempt used together.</summary>
    public async Task<(string Code, TokenUsage Usage)> GenerateAsync(FunctionSpec spec, SpecChecks checks, int maxAttempts, TimeSpan modelTimeout,
        CancellationToken cancellationToken, long? maxTokens = null)
    {
        var messages = Prompt.For(spec, await sandbox.GetPackagesAsync(cancellationToken).ConfigureAwait(false),
            await sandbox.GetPythonVersionAsync(cancellationToken).ConfigureAwait(false));
        var attempts = new List<GenerationAttempt>();
        var used = TokenUsage.None;
        var provider = client.GetService<ChatClientMetadata>()?.ProviderName ?? "openai";
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            if (maxTokens is { } budget && attempts.Count > 0 && used.TotalTokens + attempts[^1].Usage.TotalTokens > budget)
            {
                Instruments.Generations.Add(1, new("anydef.function", spec.Name), new("anydef.outcome", "token_budget"));
                throw new CodeGenerationException(
                    $"Generation of '{spec.Name}' stopped after {attempts.Count} attempt(s): the next attempt would pass " +
                    $"{nameof(AnyDefOptions)}.{nameof(AnyDefOptions.MaxGenerationTokens)} ({budget}); {used.TotalTokens} tokens are used and the last attempt " +
                    $"alone used {attempts[^1].Usage.TotalTokens}. Raise the budget, make the description more precise, or write the function in the store. " +
                    string.Join("; ", attempts.Select((a, i) => $"attempt {i + 1}: {FirstLine(a.Failure)}")),
                    spec.Name, attempts);
            }

            using var activity = Instruments.Source.StartActivity($"{AnyDefTelemetry.GenerationSpanPrefix} {model}", ActivityKind.Client);
            activity?.SetTag("gen_ai.operation.name", "chat");
            activity?.SetTag("gen_ai.system", provider);
            activity?.SetTag("gen_ai.request.model", model);
            activity?.SetTag("anydef.function", spec.Name);
            activity?.SetTag("anydef.attempt", attempt);
            ChatResponse response;
            try
            {
                response = await AskAsync(messages, modelTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                activity?.SetTag("error.type", ex.GetType().FullName);
                Instruments.Generations.Add(1, new("anydef.function", spec.Name), new("anydef.outcome", "failure"));
                throw;
            }

            var usage = Usage(response);
            used += usage;
            Record(activity, response, usage, spec.Name);
            var reply = response.Text ?? "";
            var code = CodeExtractor.Extract(reply, spec.Name);
            var problem = code is null
                ? $"The reply contains no Python function named `{spec.Name}`. Reply with the complete function in one ```python block."
                : await CodeCheck.RunAsync(sandbox, callTimeout, spec, code, checks, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("anydef.check", problem is null ? "passed" : "failed");
            if (problem is null)
            {
                Instruments.Generations.Add(1, new("anydef.function", spec.Name), new("anydef.outcome", "success"));
                return (code!, used);
            }

            Instruments.FailedAttempts.Add(1, new KeyValuePair<string, object?>("anydef.function", spec.Name));
            if (code is not null) await sandbox.ForgetAsync(code, spec.Name).ConfigureAwait(false);
            logger.LogInformation("Generated code for {Function} failed its check (attempt {Attempt} of {Max}): {Problem}", spec.Name, attempt, maxAttempts, problem);
            attempts.Add(new GenerationAttempt(reply, code, problem) { Usage = usage });
            messages.Add(new ChatMessage(ChatRole.Assistant, reply));
            messages.Add(new ChatMessage(ChatRole.User, problem + "\nFix it and reply with the complete corrected code."));
        }

        Instruments.Generations.Add(1, new("anydef.function", spec.Name), new("anydef.outcome", "failure"));
        throw new CodeGenerationException(
            $"The model '{model}' gave no usable code for '{spec.Name}' in {maxAttempts} attempt(s): " +
            string.Join("; ", attempts.Select((a, i) => $"attempt {i + 1}: {FirstLine(a.Failure)}")) +
            ". Make the description more precise, try a stronger model, or write the function by hand in the store.",
            spec.Name, attempts);
    }

    private static TokenUsage Usage(ChatResponse response) =>
        new(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0);

    private void Record(Activity? activity, ChatResponse response, TokenUsage usage, string function)
    {
        KeyValuePair<string, object?> modelTag = new("gen_ai.request.model", model), functionTag = new("anydef.function", function);
        Instruments.Tokens.Add(usage.InputTokens, modelTag, functionTag, new("gen_ai.token.type", "input"));
        Instruments.Tokens.Add(usage.OutputTokens, modelTag, functionTag, new("gen_ai.token.type", "output"));
        if (activity is null) return;
        activity.SetTag("gen_ai.response.model", response.ModelId);
        activity.SetTag("gen_ai.usage.input_tokens", usage.InputTokens);
        activity.SetTag("gen_ai.usage.output_tokens", usage.OutputTokens);
        if (response.FinishReason is { } reason) activity.SetTag("gen_ai.response.finish_reasons", new[] { reason.Value });
    }

    private static string FirstLine(string s) => s.Split('\n')[0];

    private async Task<ChatResponse> AskAsync(List<ChatMessage> messages, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            return await client.GetResponseAsync(messages, new ChatOptions { ModelId = model, Temperature = 0 }, cts.Token).ConfigureAwait(false);
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
