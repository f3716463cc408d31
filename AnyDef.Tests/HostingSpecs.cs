using System.ClientModel;
using AnyDefNet.Hosting;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenAI;

namespace AnyDefNet.Tests;

// In the sandbox collection: a running host configures the static API, which other specs there rely on.
[Collection(SandboxCollection.Name)]
public sealed class HostingSpecs : FakeModelSpecs
{
    // A memory limit no other spec uses: it appears on the Deno command line, so these hosts' processes can be told apart.
    private const int MemoryMarker = 509;

    public sealed record N(int X);

    private IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        services?.Invoke(builder.Services);
        builder.Services.AddAnyDef();
        return builder.Build();
    }

    private Dictionary<string, string?> ModelSettings() => new()
    {
        ["AnyDef:Endpoint"] = Server.BaseUrl.ToString(),
        ["AnyDef:ApiKey"] = "test-key",
        ["AnyDef:Model"] = "fake-model",
        ["AnyDef:Timeout"] = "00:00:10",
        ["AnyDef:Sandbox:MaxProcesses"] = "3",
        ["AnyDef:Sandbox:SpareProcesses"] = "1",
        ["AnyDef:Sandbox:MemoryLimitMegabytes"] = MemoryMarker.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Fact]
    public async Task A_static_function_runs_with_the_hosted_configuration_and_the_host_stop_ends_every_sandbox_process()
    {
        // Arrange: declared through the static API, before the host exists
        Server.Always(FakeReply.Code("def quadruple(x):\n    return 4 * x"));
        var quadruple = AnyDef.DefineAsync<N, int>("quadruple", TestEnvironment.Unique("Multiply by four"));
        using var host = BuildHost(ModelSettings());

        // Act (the host is stopped whatever happens: a running host configures the static API the other specs use)
        await host.StartAsync();
        AnyDefService service;
        int result;
        IReadOnlyList<int> processes;
        try
        {
            service = host.Services.GetRequiredService<AnyDefService>();
            result = await quadruple(new N(5), default);
            processes = ProcessTree.Descendants(Environment.ProcessId, $"--max-old-space-size={MemoryMarker}");
        }
        finally
        {
            await host.StopAsync();
        }

        // Assert
        result.Should().Be(20);
        Server.RequestCount.Should().Be(1);
        service.Options.Model.Should().Be("fake-model");
        service.Options.Sandbox.MaxProcesses.Should().Be(3);
        SandboxOptions.Default.MaxProcesses.Should().Be(8, "binding configuration must never change the shared defaults");
        processes.Should().NotBeEmpty("the warm sandbox and the function's process run while the host runs");
        ProcessTree.Descendants(Environment.ProcessId, $"--max-old-space-size={MemoryMarker}").Should().BeEmpty();
        AnyDef.CurrentOptions.Should().NotBeSameAs(service.Options, "a stopped host hands the static API back");
    }

    [Fact]
    public async Task Invalid_settings_stop_the_start_with_every_problem_named_by_its_configuration_path()
    {
        // Arrange
        var settings = ModelSettings();
        settings["AnyDef:MaxAttempts"] = "0";
        settings["AnyDef:Timeout"] = "-00:00:01";
        settings["AnyDef:Sandbox:MaxProcesses"] = "0";
        using var host = BuildHost(settings);

        // Act
        var start = () => host.StartAsync();

        // Assert
        var error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        error.Message.Should().Contain("AnyDef:MaxAttempts").And.Contain("AnyDef:Timeout").And.Contain("AnyDef:Sandbox:MaxProcesses");
        ProcessTree.Descendants(Environment.ProcessId, $"--max-old-space-size={MemoryMarker}").Should().BeEmpty();
    }

    [Fact]
    public async Task The_keyed_chat_client_the_application_registered_writes_the_code_of_injected_functions()
    {
        // Arrange: the only route to the model is the keyed client
        Server.Always(FakeReply.Code("def negate(x):\n    return -x"));
        var settings = ModelSettings();
        settings.Remove("AnyDef:Endpoint");
        settings.Remove("AnyDef:ApiKey");
        settings["AnyDef:ChatClientKey"] = "coder";
        settings["AnyDef:WarmUpOnStart"] = "false";
        var client = new OpenAI.Chat.ChatClient("fake-model", new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = Server.BaseUrl }).AsIChatClient();
        using var host = BuildHost(settings, s => s.AddKeyedChatClient("coder", client));
        await host.StartAsync();

        try
        {
            // Act
            var negate = host.Services.GetRequiredService<AnyDefService>().Function<N, int>("negate", TestEnvironment.Unique("Negate"));
            var result = await negate.InvokeAsync(new N(7));

            // Assert
            result.Should().Be(-7);
            Server.RequestCount.Should().Be(1);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_chat_client_key_nobody_registered_stops_the_start_and_names_the_setting()
    {
        // Arrange
        var settings = ModelSettings();
        settings["AnyDef:ChatClientKey"] = "missing";
        using var host = BuildHost(settings);

        // Act
        var start = () => host.StartAsync();

        // Assert
        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("AnyDef:ChatClientKey").And.Contain("missing");
    }

    [Fact]
    public async Task Sigterm_stops_a_hosted_instance_and_ends_every_sandbox_process_it_started()
    {
        // Arrange: a separate process, warm, with its spare sandbox process running
        await using var instance = FleetInstance.Start(new Dictionary<string, string>
        {
            ["AnyDef__Sandbox__SpareProcesses"] = "1",
            ["Fleet__Description"] = "unused",
        });
        await instance.WaitForLineAsync("ready");
        var sandbox = ProcessTree.Descendants(instance.ProcessId, "--no-prompt");

        // Act
        var exitCode = await instance.TerminateAsync();

        // Assert: a graceful stop (not a crash that the sandbox notices later) ended them
        sandbox.Should().NotBeEmpty();
        exitCode.Should().Be(0, instance.Output);
        instance.Output.Should().Contain("AnyDef sandbox processes ended").And.Contain("stopped");
        sandbox.Where(pid => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal))
            .Should().BeEmpty();
    }
}
