#!/usr/bin/env bash
# Publish output size per runtime identifier, and the first call of a stored function in a published app (runtime and
# snapshot from the publish output) against today's first start (runtime found, snapshot made at first use), one run.
# Usage: benchmarks/publish/measure.sh [RID...]   (default: linux-x64 linux-arm64 osx-arm64 osx-x64 win-x64)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rids=("$@"); [ ${#rids[@]} -eq 0 ] && rids=(linux-x64 linux-arm64 osx-arm64 osx-x64 win-x64)
version="0.1.0-measure.$(date +%s)"
export NUGET_PACKAGES="$work/packages" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 ANYDEF_CACHE_DIR="$work/build-cache"
dotnet pack "$repo/AnyDef/AnyDef.csproj" -c Release -o "$work/feed" --nologo -v q -p:Version="$version" >/dev/null
mkdir "$work/app" && cd "$work/app"
printf '<?xml version="1.0" encoding="utf-8"?>\n<configuration><packageSources><add key="local" value="%s" /></packageSources></configuration>\n' "$work/feed" > nuget.config
cat > MeasuredApp.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><Nullable>enable</Nullable></PropertyGroup>
  <ItemGroup><PackageReference Include="AnyDef" Version="$version" /></ItemGroup>
</Project>
XML
cat > Program.cs <<'CS'
using System.Diagnostics;
using AnyDefNet;
using AnyDefNet.Generated;

if (args is ["--spec-hash"])
{
    Console.WriteLine(DeclaredFunction.FindAll(typeof(Numbers).Assembly).Single().Spec.Hash);
    return;
}

var clock = Stopwatch.StartNew();
var result = Numbers.Triple(14);
Console.WriteLine($"{result} {clock.Elapsed.TotalMilliseconds:0}");

public static partial class Numbers
{
    /// <summary>Multiply n by three.</summary>
    /// <example><code>Triple(2) == 6</code></example>
    [AnyDef]
    public static partial long Triple(long n);
}
CS
dotnet build --nologo -v q >/dev/null
hash="$(dotnet run --no-build -- --spec-hash)"
mkdir anydef-store
printf '# anydef: triple\n# spec: %s\n# signature: def triple(n: int) -> int\n# source: hand-written\n# reviewed: true\n\ndef triple(n):\n    return 3 * n\n' "$hash" > "anydef-store/triple.${hash:0:12}.py"

echo "| runtime identifier | publish output | of which anydef-runtime | snapshot included |"
echo "| --- | --- | --- | --- |"
for rid in "${rids[@]}"; do
  dotnet publish -r "$rid" --nologo -o "$work/out-$rid" > "$work/publish-$rid.log" 2>&1 || { echo "| $rid | publish failed: $(grep -m1 -o 'error.*' "$work/publish-$rid.log") | | |"; continue; }
  snap=no; [ -f "$work/out-$rid/anydef-runtime/snapshot/pyodide.bin" ] && snap=yes
  echo "| $rid | $(du -sm "$work/out-$rid" | cut -f1) MB | $(du -sm "$work/out-$rid/anydef-runtime" | cut -f1) MB | $snap |"
done

# Today's first start: the same app published without a runtime identifier, the runtime already installed in the cache
# (so npm's download is not counted), the snapshot made at first use.
[ -d "$work/out-linux-x64" ] || exit 0
dotnet publish --nologo -o "$work/out-fdd" > "$work/publish-fdd.log" 2>&1
runtime="$(ls -d "$work/build-cache/publish-runtime"/*/linux-x64 | head -n 1)"
first() { local start end out; start=$(date +%s%N); out="$("$@" 2>/dev/null)"; end=$(date +%s%N); echo "$(( (end - start) / 1000000 )) ms wall, first call $(echo "$out" | cut -d' ' -f2) ms"; }
echo
echo "| first call of a stored function (frozen) | process wall, first call in-process |"
echo "| --- | --- |"
export ANYDEF_FROZEN=1
echo "| published app (runtime and snapshot from the publish output) | $(ANYDEF_CACHE_DIR="$work/empty-1" first "$work/out-linux-x64/MeasuredApp") |"
echo "| today, first start (snapshot made at first use) | $(ANYDEF_CACHE_DIR="$work/empty-2" ANYDEF_RUNTIME_DIR="$runtime" first dotnet "$work/out-fdd/MeasuredApp.dll") |"
echo "| today, later starts (snapshot in the cache) | $(ANYDEF_CACHE_DIR="$work/empty-2" ANYDEF_RUNTIME_DIR="$runtime" first dotnet "$work/out-fdd/MeasuredApp.dll") |"
echo "| published app, second run | $(ANYDEF_CACHE_DIR="$work/empty-1" first "$work/out-linux-x64/MeasuredApp") |"
