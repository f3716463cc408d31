using AnyDefNet.Internal;

namespace AnyDefNet.Generation;

/// <summary>
/// Checks code against its spec in the sandbox: it defines the function with the declared parameters, its results fit
/// the declared type, and it reproduces every example (given ones and doctests in the description). Used on a model's
/// answer before it is stored, and by <c>anydef check</c> on stored code.
/// </summary>
internal static class CodeCheck
{
    /// <summary>Returns null when the code passes, else what is wrong, in words a model (or a person) can act on.</summary>
    public static async Task<string?> RunAsync(PythonSandbox sandbox, TimeSpan callTimeout, FunctionSpec spec, string code, SpecChecks checks, CancellationToken cancellationToken)
    {
        try
        {
            var parameters = await sandbox.GetParametersAsync(code, spec.Name, cancellationToken).ConfigureAwait(false);
            var expected = spec.Parameters.Select(p => p.PythonName).ToList();
            if (parameters.Count != expected.Count)
            {
                return $"`{spec.Name}` must take exactly these parameters: ({string.Join(", ", expected)}); the code declares ({string.Join(", ", parameters)}).";
            }

            foreach (var example in checks.Examples)
            {
                var result = await sandbox.CallAsync(code, spec.Name, example.PackedArguments, callTimeout, cancellationToken).ConfigureAwait(false);
                string normalized;
                try
                {
                    normalized = checks.Normalize(result.ResultJson);
                }
                catch (ResultConversionException ex)
                {
                    return $"For {example.Display} the function returned {ex.Json}, which is not a valid {spec.ReturnHint}.";
                }

                if (!JsonEquivalence.Equal(normalized, example.ExpectedJson))
                {
                    return $"Wrong result: {example.Display} returned {JsonEquivalence.AsPython(result.ResultJson)}, expected {JsonEquivalence.AsPython(example.ExpectedJson)}.";
                }
            }

            if (spec.Description.Contains(">>>", StringComparison.Ordinal))
            {
                var (_, failed, report) = await sandbox.RunDoctestsAsync(code, spec.Name, spec.Description, callTimeout, cancellationToken).ConfigureAwait(false);
                if (failed > 0) return $"{failed} example(s) in the docstring failed:\n{report}";
            }

            return null;
        }
        catch (PythonExecutionException ex)
        {
            return $"The code raised {ex.PythonType}: {ex.PythonMessage}\n{ex.PythonTraceback}";
        }
        catch (ResultConversionException ex)
        {
            return $"The function returned {ex.Json}, which is not JSON data (dict, list, str, int, float, bool or None).";
        }
        catch (AnyDefException ex) when (ex is SandboxTimeoutException or SandboxMemoryException or SandboxCrashedException)
        {
            return $"Running the code failed: {ex.Message}";
        }
    }
}
