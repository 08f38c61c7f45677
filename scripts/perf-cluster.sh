#!/usr/bin/env bash
# Measures kmsd on PostgreSQL: encrypt-data (1 KiB) and create-key on one
# node and on two nodes sharing one database, and create-key on a SQLite dev
# server for comparison. It starts a throwaway PostgreSQL (initdb into a
# temporary directory, a free loopback port, as the postgres user when run
# as root) and deletes it afterwards. Loopback only; every phase is bounded
# by DURATION. Node A is pinned to core 0 and node B to core 1 when taskset
# exists; PostgreSQL and the load generators are not pinned (on a two-core
# machine everything shares the two cores, so read the two-node figures as
# what one machine gives, not as scaling). Measures, never asserts.
#
#   bash scripts/perf-cluster.sh        # DURATION=10s CONCURRENCY=16
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-16}
BENCH=${BENCH:-}   # a prebuilt kmsd-bench, else ./cmd/kmsd-bench
work=$(mktemp -d)
pgdir=$(mktemp -d)
cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work" "$pgdir"
}
trap cleanup EXIT

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/postgres" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)"; exit 1; }
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$pgdir"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$bin/initdb" -D "$pgdir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >/dev/null
"${as_pg[@]}" "$bin/postgres" -D "$pgdir/data" -p "$port" -k "$pgdir" -c listen_addresses=127.0.0.1 \
	-c max_connections=200 >"$work/pg.log" 2>&1 &
for _ in $(seq 100); do "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break; sleep 0.1; done
"$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE kmsd" >/dev/null

go build -o "$work/kmsd" ./cmd/kmsd
if [ -z "$BENCH" ]; then go build -o "$work/kmsd-bench" ./cmd/kmsd-bench; BENCH="$work/kmsd-bench"; fi
PIN_A="taskset -c 0"; PIN_B="taskset -c 1"
command -v taskset >/dev/null || { PIN_A=""; PIN_B=""; }

export BENCH_SK=PerfClusterSecretKey000000000000000001
export CLOUD_SDK_AK=PERFCLUSTERAK0000001 CLOUD_SDK_SK=$BENCH_SK CLOUD_SDK_PROJECT_ID=33333333333333333333333333333333
cat >"$work/identities.yaml" <<YAML
accounts:
  - name: perf
    projects: [{name: cn-north-4, id: $CLOUD_SDK_PROJECT_ID}]
    users:
      - name: admin
        policies: ["KMS Administrator"]
        access_keys: [{ak: $CLOUD_SDK_AK, sk_env: BENCH_SK}]
YAML
for n in a b; do
	cat >"$work/$n.yaml" <<YAML
listen: 127.0.0.1:0
data_dir: $work/data-$n
root_key: {file: $work/root.key}
bootstrap: $work/identities.yaml
quotas: {cmk: 10000000}
log: {level: warn}
database: {driver: postgres, dsn: "postgres://postgres@127.0.0.1:$port/kmsd?sslmode=disable", max_conns: 16}
YAML
done
"$work/kmsd" init --config "$work/a.yaml" >/dev/null
"$work/kmsd" init --config "$work/b.yaml" >/dev/null
# start NAME PIN: starts a node and leaves its endpoint in $endpoint (not
# through $(...): the subshell would run the EXIT trap).
start() {
	$2 "$work/kmsd" serve --config "$work/$1.yaml" --log-level info 2>"$work/$1.log" &
	for _ in $(seq 100); do grep -q '"kmsd listening"' "$work/$1.log" 2>/dev/null && break; sleep 0.1; done
	endpoint=$(sed -n 's/.*"msg":"kmsd listening","endpoint":"\([^"]*\)".*/\1/p' "$work/$1.log" | head -1)
}
start a "$PIN_A"; A=$endpoint
start b "$PIN_B"; B=$endpoint
aes=$("$work/kmsd" key --config "$work/a.yaml" create --project "$CLOUD_SDK_PROJECT_ID" --alias perf-aes --spec AES_256 | awk '/^key_id/{print $2}')

load() { "$BENCH" load --duration "$DURATION" --concurrency "$CONCURRENCY" "$@"; }
rps() { sed -n 's/.* rps=\([0-9]*\).*/\1/p'; }
# one OP ARGS: one node; two OP ARGS: both nodes at once, half the clients each.
one() { load --endpoint "$A" "$@"; }
two() {
	local half=$((CONCURRENCY / 2))
	"$BENCH" load --duration "$DURATION" --concurrency "$half" --endpoint "$A" "$@" >"$work/two-a" &
	local pid=$!
	"$BENCH" load --duration "$DURATION" --concurrency "$half" --endpoint "$B" "$@" >"$work/two-b"
	wait "$pid"
	cat "$work/two-a" "$work/two-b"
	echo "two nodes total rps=$(($(rps <"$work/two-a") + $(rps <"$work/two-b")))"
}
load --endpoint "$A" --op encrypt-data --key-id "$aes" --duration 2s >/dev/null
echo "== encrypt-data 1 KiB, PostgreSQL, one node";  one --op encrypt-data --key-id "$aes" --size 1024
echo "== encrypt-data 1 KiB, PostgreSQL, two nodes"; two --op encrypt-data --key-id "$aes" --size 1024
echo "== create-key, PostgreSQL, one node";  one --op create-key
echo "== create-key, PostgreSQL, two nodes"; two --op create-key

# SQLite: a dev server pinned like node A.
kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true
$PIN_A "$work/kmsd" serve --dev --log-level warn --cmk-quota 10000000 --data "$work/dev" --listen 127.0.0.1:0 >"$work/dev.out" 2>/dev/null &
for _ in $(seq 100); do [ -s "$work/dev/dev.env" ] && break; sleep 0.1; done
( . "$work/dev/dev.env"; echo "== create-key, SQLite, one node"; "$BENCH" load --duration "$DURATION" --concurrency "$CONCURRENCY" --endpoint "$KMSD_ENDPOINT" --op create-key )
