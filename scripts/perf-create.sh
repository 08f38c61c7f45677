#!/usr/bin/env bash
# Measures create-key throughput (issue 13's row, issue 12 §6) on SQLite (a
# dev server) and on PostgreSQL (one node; two nodes on one database, half
# the clients each), with CLIENTS concurrent clients, for the kmsd built
# from this tree and, when KMSD_BEFORE names another kmsd binary, for that
# one too, in interleaved rounds (before, after, before, after ...). Each
# line gives keys/s, the servers' CPU time, keys per server CPU-second
# (less disturbed by other load on the machine), and the store's batching
# factor (writes per group commit, from /metrics, when the build has it).
#
# It starts a throwaway PostgreSQL (initdb into a temporary directory, a
# free loopback port, as the postgres user when run as root; fsync and
# synchronous_commit on) and deletes it afterwards. A node is pinned to
# core 0 (the second node to core 1), the load generator to core 1 when
# taskset exists; PostgreSQL is not pinned. Loopback only; every phase is
# bounded by DURATION. Measures, never asserts.
#
#   bash scripts/perf-create.sh          # DURATION=5s RUNS=2 CLIENTS="8 32" BACKENDS="sqlite pg pg2"
#   KMSD_BEFORE=/tmp/before/kmsd bash scripts/perf-create.sh
#   AUDIT=off bash scripts/perf-create.sh  # audit mode of the PostgreSQL nodes (default required)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5s}
RUNS=${RUNS:-2}
CLIENTS=${CLIENTS:-"8 32"}
BACKENDS=${BACKENDS:-"sqlite pg pg2"}
AUDIT=${AUDIT:-required}
work=$(mktemp -d)
pgdir=$(mktemp -d)
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
trap 'stop; [ -n "${pgpid:-}" ] && { kill "$pgpid" 2>/dev/null; wait "$pgpid" 2>/dev/null; }; rm -rf "$work" "$pgdir"' EXIT

go build -o "$work/kmsd-bench" ./cmd/kmsd-bench
go build -o "$work/kmsd-after" ./cmd/kmsd
builds="after"
if [ -n "${KMSD_BEFORE:-}" ]; then cp "$KMSD_BEFORE" "$work/kmsd-before"; builds="before after"; fi
PIN_A="taskset -c 0"; PIN_B="taskset -c 1"; PIN_LOAD="taskset -c 1"
command -v taskset >/dev/null || { PIN_A=""; PIN_B=""; PIN_LOAD=""; echo "taskset not found: running unpinned"; }
TICK=$(getconf CLK_TCK)
ticks() { local s=0 p; for p in "$@"; do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$s"; }
# groups ENDPOINT... prints the summed "groups writes" of the store's
# group commit counters, or "0 0" when the build has none.
groups() {
	local e g=0 w=0 m
	for e in "$@"; do
		m=$(curl -s "$e/metrics" || true)
		g=$((g + $(awk '/^kmsd_store_commit_groups_total /{printf "%d", $2; f=1} END{if(!f) print 0}' <<<"$m")))
		w=$((w + $(awk '/^kmsd_store_commit_writes_total /{printf "%d", $2; f=1} END{if(!f) print 0}' <<<"$m")))
	done
	echo "$g $w"
}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ " $BACKENDS " == *" pg"* ]]; then
	[ -x "$bin/postgres" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
	as_pg=()
	if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; as_pg=(runuser -u postgres --); fi
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
	"${as_pg[@]}" "$bin/postgres" -D "$pgdir/data" -p "$port" -k "$pgdir" -c listen_addresses=127.0.0.1 \
		-c max_connections=200 >"$work/pg.log" 2>&1 &
	pgpid=$!
	for _ in $(seq 100); do "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
	"$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "SHOW synchronous_commit" -c "SHOW fsync" | tr -s ' \n' ' '; echo
fi

export BENCH_SK=PerfCreateSecretKey0000000000000000001
project=44444444444444444444444444444444
cat >"$work/identities.yaml" <<YAML
accounts:
  - name: perf
    projects: [{name: cn-north-4, id: $project}]
    users:
      - name: admin
        policies: ["KMS Administrator"]
        access_keys: [{ak: PERFCREATEAK00000001, sk_env: BENCH_SK}]
YAML
# A database, root key and two node configurations per build.
for b in $builds; do
	if [[ " $BACKENDS " == *" pg"* ]]; then
		"$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE kmsd_$b" >/dev/null
		for n in a b; do
			cat >"$work/$b-$n.yaml" <<YAML
listen: 127.0.0.1:0
data_dir: $work/$b-data-$n
root_key: {file: $work/$b-root.key}
bootstrap: $work/identities.yaml
quotas: {cmk: 100000000}
log: {level: warn}
throttle: {enabled: false}
audit: {mode: $AUDIT}
node_id: node-$n
database: {driver: postgres, dsn: "postgres://postgres@127.0.0.1:$port/kmsd_$b?sslmode=disable", max_conns: 16}
YAML
			"$work/kmsd-$b" init --config "$work/$b-$n.yaml" >/dev/null
		done
	fi
done

# startpg BUILD NODE PIN starts a node; its endpoint is left in $endpoint.
startpg() {
	$3 "$work/kmsd-$1" serve --config "$work/$1-$2.yaml" --log-level info 2>"$work/$1-$2.log" &
	pids+=($!)
	for _ in $(seq 100); do grep -q '"kmsd listening"' "$work/$1-$2.log" 2>/dev/null && break; sleep 0.1; done
	endpoint=$(sed -n 's/.*"msg":"kmsd listening","endpoint":"\([^"]*\)".*/\1/p' "$work/$1-$2.log" | head -1)
}
# startdev BUILD starts a SQLite dev server (throttle off, audit best_effort:
# the dev defaults); its endpoint is left in $endpoint.
startdev() {
	rm -rf "$work/dev-$1"
	$PIN_A "$work/kmsd-$1" serve --dev --log-level warn --cmk-quota 100000000 --data "$work/dev-$1" \
		--listen 127.0.0.1:0 >"$work/dev-$1.out" 2>/dev/null &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$work/dev-$1/dev.env" ] && break; sleep 0.1; done
	endpoint=$(. "$work/dev-$1/dev.env"; echo "$KMSD_ENDPOINT")
	ak=$(. "$work/dev-$1/dev.env"; echo "$CLOUD_SDK_AK"); sk=$(. "$work/dev-$1/dev.env"; echo "$CLOUD_SDK_SK")
	pj=$(. "$work/dev-$1/dev.env"; echo "$CLOUD_SDK_PROJECT_ID")
}
# measure LABEL CLIENTS "ENDPOINT..." : one phase, the clients split over
# the endpoints; prints one line.
measure() {
	local label=$1 c=$2 eps=($3) t0 t1 g0 g1 ok=0 line
	read -r -a g0 <<<"$(groups "${eps[@]}")"
	t0=$(ticks "${pids[@]}")
	local i=0 files=() loads=()
	for e in "${eps[@]}"; do
		CLOUD_SDK_AK=$ak CLOUD_SDK_SK=$sk CLOUD_SDK_PROJECT_ID=$pj \
			$PIN_LOAD "$work/kmsd-bench" load --endpoint "$e" --op create-key --duration "$DURATION" \
			--concurrency $((c / ${#eps[@]})) >"$work/out-$i" 2>&1 &
		loads+=($!); files+=("$work/out-$i"); i=$((i + 1))
	done
	wait "${loads[@]}"
	t1=$(ticks "${pids[@]}")
	read -r -a g1 <<<"$(groups "${eps[@]}")"
	local rps=0 failed=0 p50="" p99=""
	for f in "${files[@]}"; do
		line=$(cat "$f")
		rps=$((rps + $(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$line")))
		ok=$((ok + $(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$line")))
		failed=$((failed + $(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$line")))
		p50="$p50$(sed -n 's/.* p50=\([^ ]*\).*/\1/p' <<<"$line") "; p99="$p99$(sed -n 's/.* p99=\([^ ]*\).*/\1/p' <<<"$line") "
	done
	awk -v l="$label" -v c="$c" -v r="$rps" -v ok="$ok" -v f="$failed" -v a="$t0" -v b="$t1" -v t="$TICK" \
		-v dg=$((g1[0] - g0[0])) -v dw=$((g1[1] - g0[1])) -v p50="$p50" -v p99="$p99" 'BEGIN{
		cpu = (b - a) / t
		printf "%-22s clients=%-3d keys/s=%-6d failed=%d p50=%sp99=%sserver_cpu_s=%.1f keys_per_cpu_s=%.0f writes_per_group=%s\n",
			l, c, r, f, p50, p99, cpu, (cpu > 0) ? ok / cpu : 0, (dg > 0) ? sprintf("%.1f", dw / dg) : "-"}'
}

for run in $(seq "$RUNS"); do
	for backend in $BACKENDS; do
		for b in $builds; do
			case $backend in
			sqlite) startdev "$b"; eps=$endpoint ;;
			pg)
				ak=PERFCREATEAK00000001 sk=$BENCH_SK pj=$project
				startpg "$b" a "$PIN_A"; eps=$endpoint ;;
			pg2)
				ak=PERFCREATEAK00000001 sk=$BENCH_SK pj=$project
				startpg "$b" a "$PIN_A"; eps=$endpoint
				startpg "$b" b "$PIN_B"; eps="$eps $endpoint" ;;
			esac
			for c in $CLIENTS; do measure "$backend/$b#$run" "$c" "$eps"; done
			stop
		done
	done
done
