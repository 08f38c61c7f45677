#!/usr/bin/env bash
# Measures the cost of the audit trail: encrypt-data of SIZE bytes against
# two dev servers, one with --audit required (every answer waits for its
# record's group commit and fsync) and one with --audit off, each pinned
# to core 0 in turn while the load generator runs on core 1. Loopback
# only; every phase is bounded by DURATION. The phases are interleaved
# RUNS times, which server goes first alternating; the medians and the
# ratio required/off come last.
#
#   bash scripts/audit-perf.sh      # DURATION=5s CONCURRENCY=16 SIZE=1024 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
CONCURRENCY=${CONCURRENCY:-16}
SIZE=${SIZE:-1024}
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/kmsd" ./cmd/kmsd
go build -o "$work/kmsd-bench" ./cmd/kmsd-bench
PIN_SERVER="taskset -c 0"; PIN_LOAD="taskset -c 1"
command -v taskset >/dev/null || { PIN_SERVER=""; PIN_LOAD=""; echo "taskset not found: running unpinned"; }

# start MODE starts a dev server with audit MODE in $work/MODE and leaves
# its endpoint and key in $work/MODE.endpoint and $work/MODE.key.
start() {
	local mode=$1 dir=$work/$1
	$PIN_SERVER "$work/kmsd" serve --dev --audit "$mode" --log-level info --data "$dir" --listen 127.0.0.1:0 >"$dir.out" 2>/dev/null &
	for _ in $(seq 100); do [ -s "$dir/dev.env" ] && break; sleep 0.1; done
	( . "$dir/dev.env"; echo "$KMSD_ENDPOINT" >"$dir.endpoint"
	  "$work/kmsd" key --data "$dir" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-aes --spec AES_256 | awk '/^key_id/{print $2}' >"$dir.key" )
}
start required
start off
# Both servers have the dev identities; the load generator reads the AK/SK
# from the environment.
. "$work/required/dev.env"
run() { $PIN_LOAD "$work/kmsd-bench" load --duration "$DURATION" --concurrency "$CONCURRENCY" --size "$SIZE" --op encrypt-data "$@"; }
phase() {
	local mode=$1 line
	line=$(run --endpoint "$(cat "$work/$mode.endpoint")" --key-id "$(cat "$work/$mode.key")")
	echo "audit=$mode $line" >&2
	sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line" >>"$work/$mode.rps"
}
median() { sort -n | awk '{v[NR]=$1} END{printf "%.0f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Warm both, then measure.
for m in required off; do run --endpoint "$(cat "$work/$m.endpoint")" --key-id "$(cat "$work/$m.key")" --duration 2s >/dev/null; done
for i in $(seq "$RUNS"); do
	if [ $((i % 2)) -eq 1 ]; then phase required; phase off; else phase off; phase required; fi
done
r=$(median <"$work/required.rps"); o=$(median <"$work/off.rps")
records=$("$work/kmsd" audit export --format jsonl "$work/required/audit/dev" 2>/dev/null | wc -l || true)
echo "median rps: audit required $r, audit off $o; required/off $(awk -v a="$r" -v b="$o" 'BEGIN{printf "%.3f", a/b}') ($records records in the required server's trail)"
