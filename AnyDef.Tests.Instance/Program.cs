// One instance of an application fleet: AnyDef hosted with the shared cache and lock on a Redis-protocol server.
// Settings come from the environment (AnyDef__..., Fleet__Redis, Fleet__Description). It prints "ready" once started,
// calls the function after a line on standard input, prints "result: <value> source: <where the code came from>" (or
// "result: failed <exception>: <message>"), and stops. Fleet__NoLock=true registers no generation lock.
// Without Fleet__Redis it is a plain hosted instance (no shared cache), and SIGTERM stops it like any .NET host.
using AnyDefNet;
using AnyDefNet.Hosting;
using AnyDefNet.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information);
builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
if (builder.Configuration["Fleet:Redis"] is { } configuration)
{
    var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
    builder.Services.AddSingleton<IConnectionMultiplexer>(redis);
    builder.Services.AddStackExchangeRedisCache(o => o.ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(redis));
    if (builder.Configuration["Fleet:NoLock"] is not "true") builder.Services.AddSingleton<IGenerationLock>(new RedisGenerationLock(redis));
}

builder.Services.AddAnyDef();

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");
// A line means "call"; SIGTERM stops the host first, and then the instance ends without calling.
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
// (Console.In reads synchronously and ignores tokens: the read runs on its own thread, and the stop is awaited beside it.)
var stopping = Task.Delay(Timeout.Infinite, lifetime.ApplicationStopping);
if (await Task.WhenAny(Task.Run(Console.In.ReadLine), stopping) == stopping)
{
    await host.WaitForShutdownAsync();
    Console.WriteLine("stopped");
    return;
}

var square = host.Services.GetRequiredService<AnyDefService>().Function<SquareArgs, int>("square", builder.Configuration["Fleet:Description"]!);
try
{
    var result = await square.InvokeAsync(new SquareArgs(7));
    var code = await square.GetCodeAsync();
    Console.WriteLine($"result: {result} source: {code.Source}");
}
catch (Exception ex)
{
    Console.WriteLine($"result: failed {ex.GetType().Name}: {ex.Message}");
}

await host.StopAsync();

internal sealed record SquareArgs(int X);
