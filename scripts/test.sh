#!/usr/bin/env bash
# Runs the whole kmsd test suite: formatting, vet, the unit and integration
# tests with the race detector, and the official-SDK compatibility suite
# (test/compat, its own module), and the web console in Chromium
# (scripts/console-e2e.sh installs chromium and playwright-core if absent).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...
(cd test/compat && go vet ./...)

echo "== go test (kmsd)"
go test -race -count=1 ./...

echo "== go test (official SDK compatibility suite)"
(cd test/compat && go test -race -count=1 ./...)

echo "== web console in Chromium"
scripts/console-e2e.sh
