#!/usr/bin/env bash
# Runs the whole kmsd test suite: formatting, vet, the unit and integration
# tests with the race detector, and the official-SDK compatibility suite
# (test/compat, its own module), the PKCS#11 tests against SoftHSM2
# (installs softhsm2 if absent), and the web console in Chromium
# (scripts/console-e2e.sh installs chromium and playwright-core if absent).
# Besides Go modules it installs Debian's postgresql package when no
# PostgreSQL server binaries are present: the tests of the PostgreSQL store
# start throwaway servers of their own (internal/store/postgres/pgtest),
# never a server running on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "== installing postgresql (for the PostgreSQL store tests)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

# SoftHSM2 backs the PKCS#11 tests (HSM root key, dedicated keystores);
# without it they skip, so install it when it is missing.
if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "== installing softhsm2"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq && $sudo apt-get install -y -qq softhsm2 >/dev/null
fi

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

echo "== go test (official SDK compatibility suite, two kmsd nodes on one PostgreSQL database)"
# The same suite with KMSD_COMPAT_STORE=postgres: every server the tests
# start is a cluster of two nodes behind a proxy that alternates between
# them (test/compat/cluster_test.go). Without -race, to keep the run short;
# the race detector covers the same code in the SQLite run above and in the
# store and server packages.
(cd test/compat && KMSD_COMPAT_STORE=postgres go test -count=1 ./...)

echo "== web console in Chromium"
scripts/console-e2e.sh
