// One instance of an application fleet: AnyDef hosted with the shared cache and lock on a Redis-protocol server.
// Settings come from the environment (AnyDef__..., Fleet__Redis, Fleet__Description). It prints "ready" once started,
// calls the function after a line on standard input, prints "result: <value> source: <where the code came from>", and stops.
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
var redis = await ConnectionMultiplexer.ConnectAsync(builder.Configuration["Fleet:Redis"]!);
builder.Services.AddSingleton<IConnectionMultiplexer>(redis);
builder.Services.AddStackExchangeRedisCache(o => o.ConnectionMultiplexerFactory = () => Task.FromResult<IConnectionMultiplexer>(redis));
builder.Services.AddSingleton<IGenerationLock>(new RedisGenerationLock(redis));
builder.Services.AddAnyDef();

using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");
await Console.In.ReadLineAsync();

var square = host.Services.GetRequiredService<AnyDefService>().Function<SquareArgs, int>("square", builder.Configuration["Fleet:Description"]!);
var result = await square.InvokeAsync(new SquareArgs(7));
var code = await square.GetCodeAsync();
Console.WriteLine($"result: {result} source: {code.Source}");
await host.StopAsync();

internal sealed record SquareArgs(int X);
