#!/usr/bin/env bash
# Measures kmsd's hot paths against bare baseline handlers in one run on
# this machine: each server pinned to core 0, the load generator to core 1.
# Loopback only; every phase is bounded by DURATION. Prints one line per
# phase and the ratios the performance targets are stated in.
#
#   bash scripts/perf.sh            # DURATION=10s CONCURRENCY=16 SIZE=1024
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-16}
SIZE=${SIZE:-1024}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/kmsd" ./cmd/kmsd
go build -o "$work/kmsd-bench" ./cmd/kmsd-bench
PIN_SERVER="taskset -c 0"; PIN_LOAD="taskset -c 1"
command -v taskset >/dev/null || { PIN_SERVER=""; PIN_LOAD=""; echo "taskset not found: running unpinned"; }

$PIN_SERVER "$work/kmsd" serve --dev --log-level info --data "$work/data" --listen 127.0.0.1:0 >"$work/kmsd.out" 2>/dev/null &
for _ in $(seq 100); do [ -s "$work/data/dev.env" ] && break; sleep 0.1; done
. "$work/data/dev.env"
aes=$("$work/kmsd" key --data "$work/data" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-aes --spec AES_256 | awk '/^key_id/{print $2}')
ec=$("$work/kmsd" key --data "$work/data" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-ec --spec EC_P256 | awk '/^key_id/{print $2}')

$PIN_SERVER "$work/kmsd-bench" baseline --listen 127.0.0.1:0 >"$work/base.out" &
for _ in $(seq 100); do grep -q listening "$work/base.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(awk '{print $4}' "$work/base.out")

run() { $PIN_LOAD "$work/kmsd-bench" load --duration "$DURATION" --concurrency "$CONCURRENCY" --size "$SIZE" "$@"; }
rps() { sed -n 's/.* rps=\([0-9]*\).*/\1/p'; }
# Warm both servers, then measure.
run --endpoint "$BASE" --baseline --op encrypt-data --duration 2s >/dev/null
run --endpoint "$KMSD_ENDPOINT" --op encrypt-data --key-id "$aes" --duration 2s >/dev/null
b_enc=$(run --endpoint "$BASE" --baseline --op encrypt-data | tee /dev/stderr | rps)
k_enc=$(run --endpoint "$KMSD_ENDPOINT" --op encrypt-data --key-id "$aes" | tee /dev/stderr | rps)
b_sig=$(run --endpoint "$BASE" --baseline --op sign | tee /dev/stderr | rps)
k_sig=$(run --endpoint "$KMSD_ENDPOINT" --op sign --key-id "$ec" | tee /dev/stderr | rps)
awk -v a="$k_enc" -v b="$b_enc" 'BEGIN{printf "encrypt-data %d B: kmsd/baseline = %.2f (target >= 0.80)\n", '"$SIZE"', a/b}'
awk -v a="$k_sig" -v b="$b_sig" 'BEGIN{printf "sign ECDSA P-256: kmsd/baseline = %.2f (target >= 0.85)\n", a/b}'
