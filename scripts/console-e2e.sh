#!/usr/bin/env bash
# End-to-end test of the web console in a real browser (docs/console.md):
# installs Debian's chromium (apt-get) and playwright-core (npm, into
# test/console/node_modules, from the committed package-lock.json) when
# absent, starts a dev server on 127.0.0.1:0 in a temporary data dir, runs
# test/console/console.e2e.mjs against it with a time bound, and stops the
# server by its PID.
#
#   scripts/console-e2e.sh                  # the test
#   scripts/console-e2e.sh docs/console     # the test, saving screenshots there
set -euo pipefail
cd "$(dirname "$0")/.."
shots=${1:-}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null; then
  echo "== installing chromium and npm (apt-get)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium nodejs npm >/dev/null
fi
if [ ! -d test/console/node_modules/playwright-core ]; then
  echo "== installing playwright-core (npm ci; no browser download)"
  (cd test/console && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/kmsd" ./cmd/kmsd
"$tmp/kmsd" serve --dev --listen 127.0.0.1:0 --data "$tmp/data" --log-level info >"$tmp/out" 2>"$tmp/err" &
pid=$!
endpoint=
for _ in $(seq 100); do
  endpoint=$(sed -n 's/^kmsd dev server listening on \([^ ]*\).*/\1/p' "$tmp/out")
  [ -n "$endpoint" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/err"; echo "kmsd did not start"; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$tmp/err"; echo "kmsd did not say where it listens"; exit 1; }

echo "== console end-to-end (chromium, $endpoint)"
if [ -n "$shots" ]; then mkdir -p "$shots"; shots=$(cd "$shots" && pwd); fi
status=0
(cd test/console && KMSD_ENDPOINT="$endpoint" timeout 120 node console.e2e.mjs $shots) || status=$?
if [ "$status" != 0 ]; then
  echo "console end-to-end failed ($status); server log:"; tail -50 "$tmp/err"
  exit "$status"
fi
