#!/usr/bin/env bash
# Measures kmsd's hot paths against bare baseline handlers in one run on
# this machine: each server pinned to core 0, the load generator to core 1.
# Loopback only; every phase is bounded by DURATION. Prints one line per
# phase, with the server's CPU use over the phase (% of one core) and its
# requests per CPU-second, then the ratios the performance targets are
# stated in: requests per second, and (in brackets) requests per server
# CPU-second, which neighbours taking turns on core 0 disturb less. With
# RUNS > 1 the phases are interleaved RUNS times, which server goes first
# alternating, and the medians come last.
#
#   bash scripts/perf.sh            # DURATION=10s CONCURRENCY=16 SIZE=1024 RUNS=1 AUDIT=off
#   KMSD=/path/to/old/kmsd bash scripts/perf.sh   # measure another kmsd binary
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-16}
SIZE=${SIZE:-1024}
RUNS=${RUNS:-1}
# AUDIT is kmsd's audit mode. The baselines keep no audit trail, so the
# hot-path ratios compare the servers without one (off); the trail's own
# cost is measured by scripts/audit-perf.sh. AUDIT=best_effort measures
# the dev default.
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
TICK=$(getconf CLK_TCK)

$PIN_SERVER "$KMSD" serve --dev --log-level info --audit "$AUDIT" --data "$work/data" --listen 127.0.0.1:0 >"$work/kmsd.out" 2>/dev/null &
kmsd_pid=$!
for _ in $(seq 100); do [ -s "$work/data/dev.env" ] && break; sleep 0.1; done
. "$work/data/dev.env"
aes=$("$KMSD" key --data "$work/data" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-aes --spec AES_256 | awk '/^key_id/{print $2}')
ec=$("$KMSD" key --data "$work/data" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-ec --spec EC_P256 | awk '/^key_id/{print $2}')

$PIN_SERVER "$work/kmsd-bench" baseline --listen 127.0.0.1:0 >"$work/base.out" &
base_pid=$!
for _ in $(seq 100); do grep -q listening "$work/base.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(awk '{print $4}' "$work/base.out")

# ticks prints the CPU time of a process in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { $PIN_LOAD "$work/kmsd-bench" load --duration "$DURATION" --concurrency "$CONCURRENCY" --size "$SIZE" "$@"; }
# measure PID ARGS... runs one phase, prints its line with the server's CPU
# use and requests per CPU-second appended, and leaves the requests per
# second and per CPU-second in $work/rps and $work/cps.
measure() {
	local pid=$1 t0 t1 s0 s1 line rps
	shift
	t0=$(ticks "$pid"); s0=$(date +%s.%N)
	line=$(run "$@")
	t1=$(ticks "$pid"); s1=$(date +%s.%N)
	rps=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line")
	echo "$rps" >"$work/rps"
	awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v t="$TICK" -v r="$rps" \
		'BEGIN{cpu=(b-a)/t/(e-s); printf "%.0f\n", r/cpu}' >"$work/cps"
	echo "$line server_cpu=$(awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v t="$TICK" 'BEGIN{printf "%.0f%%", (b-a)/t/(e-s)*100}') rps_per_cpu_s=$(cat "$work/cps")" >&2
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
median() { sort -n | awk '{v[NR]=$1} END{printf "%.2f", NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# Warm both servers, then measure.
run --endpoint "$BASE" --baseline --op encrypt-data --duration 2s >/dev/null
run --endpoint "$KMSD_ENDPOINT" --op encrypt-data --key-id "$aes" --duration 2s >/dev/null
: >"$work/enc"; : >"$work/sig"; : >"$work/enc_cpu"; : >"$work/sig_cpu"
# pair OP KEY measures the baseline and kmsd on one operation, the baseline
# first in odd runs and kmsd first in even ones, so that a drift of the
# machine favours neither; it leaves b, bc, k and kc set.
pair() {
	local op=$1 key=$2
	if [ $((i % 2)) -eq 1 ]; then
		measure "$base_pid" --endpoint "$BASE" --baseline --op "$op"; b=$(cat "$work/rps"); bc=$(cat "$work/cps")
		measure "$kmsd_pid" --endpoint "$KMSD_ENDPOINT" --op "$op" --key-id "$key"; k=$(cat "$work/rps"); kc=$(cat "$work/cps")
	else
		measure "$kmsd_pid" --endpoint "$KMSD_ENDPOINT" --op "$op" --key-id "$key"; k=$(cat "$work/rps"); kc=$(cat "$work/cps")
		measure "$base_pid" --endpoint "$BASE" --baseline --op "$op"; b=$(cat "$work/rps"); bc=$(cat "$work/cps")
	fi
}
for i in $(seq "$RUNS"); do
	pair encrypt-data "$aes"; b_enc=$b; bc_enc=$bc; k_enc=$k; kc_enc=$kc
	pair sign "$ec"; b_sig=$b; bc_sig=$bc; k_sig=$k; kc_sig=$kc
	echo "$(ratio "$k_enc" "$b_enc")" >>"$work/enc"; echo "$(ratio "$kc_enc" "$bc_enc")" >>"$work/enc_cpu"
	echo "$(ratio "$k_sig" "$b_sig")" >>"$work/sig"; echo "$(ratio "$kc_sig" "$bc_sig")" >>"$work/sig_cpu"
	echo "run $i: encrypt-data $SIZE B: kmsd/baseline = $(ratio "$k_enc" "$b_enc") [per CPU-second $(ratio "$kc_enc" "$bc_enc")] (target >= 0.80)"
	echo "run $i: sign ECDSA P-256: kmsd/baseline = $(ratio "$k_sig" "$b_sig") [per CPU-second $(ratio "$kc_sig" "$bc_sig")] (target >= 1.0, issue 13)"
done
if [ "$RUNS" -gt 1 ]; then
	echo "median of $RUNS: encrypt-data $SIZE B: kmsd/baseline = $(median <"$work/enc") [per CPU-second $(median <"$work/enc_cpu")] (target >= 0.80)"
	echo "median of $RUNS: sign ECDSA P-256: kmsd/baseline = $(median <"$work/sig") [per CPU-second $(median <"$work/sig_cpu")] (target >= 1.0, issue 13)"
fi
