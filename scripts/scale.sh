#!/usr/bin/env bash
# Measures the figures of issue 13 on this machine: user-instances against
# a bare constant-JSON handler at 64 connections (interleaved rounds),
# list-keys and user-instances at growing key counts, create-key with 8
# clients, and encrypt-data with the dev default log level (debug) against
# info (interleaved rounds). The servers are pinned to core 0 and the load
# generator to core 1, as in perf.sh. Loopback only; every phase is
# bounded by DURATION.
#
#   bash scripts/scale.sh                     # DURATION=5s RUNS=3 KEYS="10 10000 100000"
#   (list-keys: the first page, the middle one and the last, limit 10;
#   LIST_RUNS=3 repeats the four phases of each key count in rounds)
#   KMSD=/path/to/old/kmsd bash scripts/scale.sh   # measure another kmsd binary
#   PHASES="instances lists create logging"   # which phases to run
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
RUNS=${RUNS:-3}
KEYS=${KEYS:-"10 10000 100000"}
PHASES=${PHASES:-"instances lists create logging"} # lists before create: create adds keys
LIST_RUNS=${LIST_RUNS:-1} # rounds of the four list phases at each key count
# AUDIT is the servers' audit mode. The baseline keeps no audit trail, so
# by default neither does kmsd (off); AUDIT=best_effort measures the dev
# default.
AUDIT=${AUDIT:-off}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/kmsd-bench" ./cmd/kmsd-bench
if [ -z "${KMSD:-}" ]; then
	go build -o "$work/kmsd" ./cmd/kmsd
	KMSD=$work/kmsd
fi
PIN_SERVER="taskset -c 0"; PIN_LOAD="taskset -c 1"
command -v taskset >/dev/null || { PIN_SERVER=""; PIN_LOAD=""; echo "taskset not found: running unpinned"; }
bench() { $PIN_LOAD "$work/kmsd-bench" "$@"; }
TICK=$(getconf CLK_TCK)
# ticks prints the CPU time of a process in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# phase PID ARGS... runs one load phase against the server of process PID,
# prints its line with the server's requests per CPU-second appended, and
# leaves the requests per second in $r, per server CPU-second in $c and
# the ratio p99/p50 of its latencies in $tail.
phase() {
	local pid=$1 line t0 t1
	shift
	t0=$(ticks "$pid")
	line=$(bench load "$@")
	t1=$(ticks "$pid")
	r=$(sed -n 's/.* ok=\([0-9]*\).* rps=\([0-9]*\).*/\2/p' <<<"$line")
	c=$(awk -v ok="$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")" -v a="$t0" -v b="$t1" -v t="$TICK" 'BEGIN{printf "%.0f", (b>a) ? ok/((b-a)/t) : 0}')
	tail=$(awk -v a="$(secs p99 "$line")" -v b="$(secs p50 "$line")" 'BEGIN{printf "%.1f", (b > 0) ? a / b : 0}')
	echo "$line rps_per_cpu_s=$c"
}
# secs NAME LINE prints the latency NAME (p50, p99) of a load line in seconds.
secs() { sed -n "s/.* $1=\([0-9.]*\)\(ns\|µs\|ms\|s\) .*/\1 \2/p" <<<"$2" | awk '{m = $2 == "ns" ? 1e-9 : $2 == "µs" ? 1e-6 : $2 == "ms" ? 1e-3 : 1; printf "%.9f", $1 * m}'; }
median() { sort -n | awk '{v[NR]=$1} END{printf "%.2f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

# start NAME LEVEL starts a dev server with its own data directory and
# leaves its endpoint in $endpoint; the credentials are the same for all.
start() {
	local name=$1 level=$2
	$PIN_SERVER "$KMSD" serve --dev --log-level "$level" --audit "$AUDIT" --cmk-quota 100000000 --data "$work/$name" \
		--listen 127.0.0.1:0 >"$work/$name.out" 2>"$work/$name.log" &
	pid=$!
	for _ in $(seq 100); do [ -s "$work/$name/dev.env" ] && break; sleep 0.1; done
	. "$work/$name/dev.env"
	endpoint=$KMSD_ENDPOINT
}
start info info
INFO=$endpoint INFO_PID=$pid
aes=$("$KMSD" key --data "$work/info" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-aes --spec AES_256 | awk '/^key_id/{print $2}')
$PIN_SERVER "$work/kmsd-bench" baseline --listen 127.0.0.1:0 >"$work/base.out" &
BASE_PID=$!
for _ in $(seq 100); do grep -q listening "$work/base.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(awk '{print $4}' "$work/base.out")

for phase in $PHASES; do
case $phase in
instances)
	bench load --endpoint "$INFO" --op user-instances --duration 2s >/dev/null
	: >"$work/r"
	for i in $(seq "$RUNS"); do
		phase "$BASE_PID" --endpoint "$BASE" --baseline --op user-instances --concurrency 64 --duration "$DURATION"; b=$r bc=$c bt=$tail
		phase "$INFO_PID" --endpoint "$INFO" --op user-instances --concurrency 64 --duration "$DURATION"; k=$r kc=$c kt=$tail
		echo "run $i: user-instances kmsd/baseline = $(ratio "$k" "$b") [per CPU-second $(ratio "$kc" "$bc")] (target >= 0.5); p99/p50 kmsd $kt baseline $bt (target <= 5)"
		echo "$(ratio "$k" "$b") $(ratio "$kc" "$bc") $kt $bt" >>"$work/r"
	done
	echo "median of $RUNS: user-instances kmsd/baseline = $(cut -d' ' -f1 "$work/r" | median) [per CPU-second $(cut -d' ' -f2 "$work/r" | median)]; p99/p50 kmsd $(cut -d' ' -f3 "$work/r" | median) baseline $(cut -d' ' -f4 "$work/r" | median)"
	;;
lists)
	have=1 # the key bench-aes
	for n in $KEYS; do
		if [ "$n" -gt "$have" ]; then
			"$work/kmsd-bench" prepare --data "$work/info" --project "$CLOUD_SDK_PROJECT_ID" --keys $((n - have)) >/dev/null
			have=$n
		fi
		for i in $(seq "$LIST_RUNS"); do
			echo "keys=$n run $i: first, middle (jump), last page, user-instances"
			phase "$INFO_PID" --endpoint "$INFO" --op list-keys --limit 10 --concurrency 16 --duration "$DURATION"
			phase "$INFO_PID" --endpoint "$INFO" --op list-keys --limit 10 --marker $((n / 2)) --concurrency 16 --duration "$DURATION"
			phase "$INFO_PID" --endpoint "$INFO" --op list-keys --limit 10 --marker $((n > 10 ? n - 10 : 0)) --concurrency 16 --duration "$DURATION"
			phase "$INFO_PID" --endpoint "$INFO" --op user-instances --concurrency 64 --duration "$DURATION"
		done
	done
	;;
create)
	phase "$INFO_PID" --endpoint "$INFO" --op create-key --concurrency 8 --duration "$DURATION"
	;;
logging)
	start debug debug
	DEBUG=$endpoint DEBUG_PID=$pid
	daes=$("$KMSD" key --data "$work/debug" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-aes --spec AES_256 | awk '/^key_id/{print $2}')
	bench load --endpoint "$DEBUG" --op encrypt-data --key-id "$daes" --duration 2s >/dev/null
	: >"$work/l"
	for i in $(seq "$RUNS"); do
		phase "$INFO_PID" --endpoint "$INFO" --op encrypt-data --key-id "$aes" --duration "$DURATION"; k=$r kc=$c
		phase "$DEBUG_PID" --endpoint "$DEBUG" --op encrypt-data --key-id "$daes" --duration "$DURATION"; d=$r dc=$c
		echo "run $i: encrypt-data debug/info = $(ratio "$d" "$k") [per CPU-second $(ratio "$dc" "$kc")] (target >= 0.90)"
		echo "$(ratio "$d" "$k") $(ratio "$dc" "$kc")" >>"$work/l"
	done
	echo "median of $RUNS: encrypt-data debug/info = $(cut -d' ' -f1 "$work/l" | median) [per CPU-second $(cut -d' ' -f2 "$work/l" | median)]"
	;;
esac
done
