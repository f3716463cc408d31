#!/usr/bin/env bash
# The Dockerfile's run-time conditions without Docker (for a machine that cannot pull images): publishes this example for
# linux-x64 as the Dockerfile does, then runs it under bubblewrap with a read-only root file system, a tmpfs /tmp, a
# non-root user (uid 1654, the ASP.NET images' "app"), no network namespace beyond its own loopback, PATH without npm or
# Node.js, and ANYDEF_FROZEN=1; calls both endpoints and /health from inside.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-/var/tmp/anydef-web-$$}"
dotnet="$(readlink -f "$(command -v dotnet)")"
bwrap="$(command -v bwrap)"
dotnet publish "$repo/examples/AnyDef.WebService" -c Release -r linux-x64 --self-contained false -o "$out" --nologo -v q
mkdir -p "$out.home"
cat > "$out.check" <<'SH'
export PATH=/usr/bin:/bin
cd "$APP"
env PATH=/nonexistent "$DOTNET" AnyDef.WebService.dll > /tmp/web.log 2>&1 &
pid=$!
for i in $(seq 1 120); do curl -s -o /dev/null http://127.0.0.1:8080/health && break; sleep 0.5; done
echo "user id: $(id -u)"
echo "GET /slug?title=Hello%20World -> $(curl -s 'http://127.0.0.1:8080/slug?title=Hello%20World')"
echo "GET /primes/90/130 -> $(curl -s http://127.0.0.1:8080/primes/90/130)"
echo "GET /health -> $(curl -s http://127.0.0.1:8080/health)"
touch "$APP/probe" 2>/dev/null && echo "the app folder is writable" || echo "the app folder is read-only"
kill $pid; wait $pid 2>/dev/null || true
echo "the service's warnings:"; grep -A1 '^warn' /tmp/web.log | grep -v '^warn\|^--' | cut -c1-200 || true
SH
env -i PATH=/usr/bin:/bin APP="$out" HOME="$out.home" DOTNET="$dotnet" DOTNET_ROOT="$(dirname "$dotnet")" ANYDEF_FROZEN=1 \
    ASPNETCORE_HTTP_PORTS=8080 Telemetry__Console=false \
  "$bwrap" --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-user --uid 1654 --gid 1654 --unshare-net --unshare-pid \
    --die-with-parent /bin/sh "$out.check"
rm -rf "$out" "$out.home" "$out.check"
