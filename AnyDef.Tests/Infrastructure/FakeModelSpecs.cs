namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Base of the specs that talk to a model: each test gets its own fake chat-completions server.</summary>
public abstract class FakeModelSpecs : IAsyncLifetime
{
    protected FakeChatServer Server { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Server = await FakeChatServer.StartAsync();

    public virtual async Task DisposeAsync() => await Server.DisposeAsync();
}
