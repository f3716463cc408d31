namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Starts the real Deno + Pyodide sandbox once for the test run (snapshot and spares included).</summary>
public sealed class SandboxFixture : IAsyncLifetime
{
    public PythonSandbox Sandbox { get; } = PythonSandbox.GetShared(TestEnvironment.Sandbox);

    public Task InitializeAsync() => Sandbox.WarmUpAsync();

    public Task DisposeAsync() => Task.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class SandboxCollection : ICollectionFixture<SandboxFixture>
{
    public const string Name = "sandbox";
}
