using AnyDefNet;

var fn = AnyDef.Function<AddArgs, int>("add", "Return the sum of a and b.", new AnyDefOptions { StoreDirectory = "/tmp/t/store" });
await new DirectoryCodeStore("/tmp/t/store").WriteAsync(fn.Spec, "def add(a, b):\n    return a + b\n", "hand-written");
var sw = System.Diagnostics.Stopwatch.StartNew();
try { Console.WriteLine(fn.Invoke(new AddArgs(1, 2))); } catch (Exception e) { Console.WriteLine(e); }
Console.WriteLine($"first {sw.Elapsed.TotalMilliseconds}");
for (int r = 0; r < 3; r++) {
sw.Restart();
for (int i = 0; i < 1000; i++) await fn.InvokeAsync(new AddArgs(i, 1));
Console.WriteLine($"1000 sequential {sw.Elapsed.TotalMilliseconds}");
sw.Restart();
await Task.WhenAll(Enumerable.Range(0, 16).Select(async t => { for (int i = 0; i < 1000; i++) await fn.InvokeAsync(new AddArgs(i, t)); }));
Console.WriteLine($"16000 pipelined {sw.Elapsed.TotalMilliseconds}");
sw.Restart();
var res = await fn.MapAsync(Enumerable.Range(0, 1000).Select(i => new AddArgs(i, 1)));
Console.WriteLine($"batch 1000 {sw.Elapsed.TotalMilliseconds} {res[999]}");
}
record AddArgs(int A, int B);
