#!/usr/bin/env bash
# Profiles where kmsd and the bare baseline spend their core under the load
# of scripts/perf.sh: each server pinned to core 0, the load generator to
# core 1, and `perf record` sampling all of core 0 (user and kernel) every
# millisecond while one phase runs. Every sample of the server is attributed to
# an area by its innermost frame that names one (see area() below), and the
# script prints each area's share of the server's samples, per phase.
# Needs perf and the right to sample a whole CPU (root, or
# kernel.perf_event_paranoid <= 0). The raw profiles stay in $OUT.
#
#   bash scripts/profile.sh         # DURATION=8s OUT=/tmp/kmsd-profile
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8s}
OUT=${OUT:-/tmp/kmsd-profile}
SIZE=${SIZE:-1024}
# AUDIT is kmsd's audit mode. The baselines keep no audit trail, so the
# hot-path ratios compare the servers without one (off); the trail's own
# cost is measured by scripts/audit-perf.sh. AUDIT=best_effort measures
# the dev default.
AUDIT=${AUDIT:-off}
command -v perf >/dev/null || { echo "perf not found"; exit 1; }
rm -rf "$OUT"; mkdir -p "$OUT"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/kmsd" ./cmd/kmsd
go build -o "$work/kmsd-bench" ./cmd/kmsd-bench
taskset -c 0 "$work/kmsd" serve --dev --log-level info --audit "$AUDIT" --data "$work/data" --listen 127.0.0.1:0 >/dev/null 2>&1 &
kmsd_pid=$!
for _ in $(seq 100); do [ -s "$work/data/dev.env" ] && break; sleep 0.1; done
. "$work/data/dev.env"
aes=$("$work/kmsd" key --data "$work/data" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-aes --spec AES_256 | awk '/^key_id/{print $2}')
ec=$("$work/kmsd" key --data "$work/data" create --project "$CLOUD_SDK_PROJECT_ID" --alias bench-ec --spec EC_P256 | awk '/^key_id/{print $2}')
taskset -c 0 "$work/kmsd-bench" baseline --listen 127.0.0.1:0 >"$work/base.out" &
base_pid=$!
for _ in $(seq 100); do grep -q listening "$work/base.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(awk '{print $4}' "$work/base.out")

# area reads `perf script` output and prints the share of each area in the
# samples of process $1. Frames come innermost first; the first frame that
# names an area decides, so allocation inside JSON decoding counts as
# allocation, and SHA-256 inside signature verification as verification.
# Other runtime frames (map lookups, copies) count for their caller; a
# stack of runtime frames alone is the scheduler's. A kernel sample counts
# for sockets when its innermost user frame is I/O or, in interrupt
# context without user frames, when the kernel is moving TCP packets.
area() {
	awk -v pid="$1" '
	function name(f) {
		sub(/^[ \t]*[0-9a-f]+ /, "", f); sub(/ \([^()]*\)$/, "", f); sub(/\+0x[0-9a-f]+$/, "", f)
		return f
	}
	function classify(f) {
		if (f ~ /^runtime\.(mallocgc|gc|markroot|scanobject|scanblock|greyobject|bgsweep|sweepone|bgscavenge|wbBufFlush|newobject|makeslice|growslice|\(\*mheap\)|\(\*mcache\)|\(\*mcentral\)|\(\*mspan\)|\(\*sweepLocked\))|^gcWriteBarrier/) return "allocation and GC"
		# SHA-512 is used here only by the hedged nonce of ECDSA signing;
		# its assembly leaves perf without a caller.
		if (f ~ /^(crypto\/ecdsa|crypto\/internal\/fips140\/(ecdsa|nistec|bigmod|sha512))|^p256/) return "ECDSA P-256"
		if (f ~ /^(crypto\/rand|crypto\/internal\/(sysrand|fips140\/drbg|entropy))/) return "randomness (nonces)"
		if (f ~ /^(crypto\/aes|crypto\/cipher|crypto\/internal\/fips140\/aes)|^gcmAes|kmsd\/internal\/ciphertext\./) return "AES-GCM and the blob format"
		if (f ~ /^encoding\/base64/) return "base64"
		if (f ~ /kmsd\/internal\/auth\./) return "signature verification and IAM policy"
		if (f ~ /^encoding\/json|kmsd\/internal\/api\.(decodeObject|validJSON|scan|objectKey|stringEnd|valueEnd|skipSpace|fields\.|encodeKeyBase64|appendJSONString|textBytes|textField|keyID|enum|aadField|requiredText|requiredBase64|signInput|keyRequest|\(\*call\)\.request)/) return "JSON decoding and encoding"
		if (f ~ /^log\/slog/) return "logging"
		if (f ~ /^(net\/http|net\/textproto|net\/url|bufio|net\.|internal\/poll|syscall\.|internal\/runtime\/syscall|runtime\.netpoll)/) return "net/http (user space)"
		if (f ~ /kmsd\/internal\//) return "kmsd: routing, caches, headers"
		if (f ~ /^main\./) return "baseline handler"
		return ""
	}
	function finish() {
		if (!mine || decided) return
		if (kernel) c = tcp ? "kernel: sockets and epoll" : "kernel: scheduling, futex, faults, timers"
		else c = runtime ? "Go scheduler and runtime" : "other"
		counts[c]++
	}
	/^[^ \t]/ { finish(); split($2, id, "/"); mine = (id[1] == pid); if (mine) total++; decided = 0; kernel = 0; tcp = 0; runtime = 0; next }
	/^$/ { finish(); decided = 1; next }
	{
		if (!mine || decided) next
		if ($0 ~ /\[kernel\.kallsyms\]/) {
			kernel = 1
			if ($0 ~ /(tcp_|sock_|ip_|skb|net_rx|netif|dev_queue|ep_poll|epoll)/) tcp = 1
			next
		}
		f = name($0)
		c = classify(f)
		if (kernel) {
			c = (c == "net/http (user space)") ? "kernel: sockets and epoll" : "kernel: scheduling, futex, faults, timers"
		} else if (c == "") {
			if (f ~ /^runtime\./) runtime = 1
			next
		}
		counts[c]++; decided = 1
	}
	END {
		finish()
		for (c in counts) printf "%6.1f%%  %s\n", 100 * counts[c] / total, c
		printf "%6d samples of process %s\n", total, pid
	}' | sort -rn
}

run() { taskset -c 1 "$work/kmsd-bench" load --concurrency 16 --size "$SIZE" "$@"; }
secs=${DURATION%s}
for op in encrypt-data sign; do
	key=$aes; [ "$op" = sign ] && key=$ec
	for target in kmsd baseline; do
		if [ "$target" = kmsd ]; then pid=$kmsd_pid; args=(--endpoint "$KMSD_ENDPOINT" --key-id "$key"); else pid=$base_pid; args=(--endpoint "$BASE" --baseline); fi
		run --op "$op" "${args[@]}" --duration 2s >/dev/null
		run --op "$op" "${args[@]}" --duration "$((secs + 2))s" >"$work/load" &
		sleep 1
		perf record -q -a -C 0 -e cpu-clock -c 1000000 -g -o "$OUT/$target-$op.perf" -- sleep "$secs" 2>/dev/null
		wait $!
		echo "== $target $op: $(cat "$work/load")"
		perf script -F comm,pid,tid,ip,sym,dso -i "$OUT/$target-$op.perf" 2>/dev/null | area "$pid"
	done
done
