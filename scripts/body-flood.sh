#!/usr/bin/env bash
# Measures what unauthenticated bodies cost the server (issue 10 item 1):
# starts a dev server on loopback, sends N (default 50) parallel POSTs of
# SIZE bytes (default 11.5 MB, under the 12 MB gateway limit) signed with
# an unknown access key, and prints the server's peak and final resident
# memory (VmHWM, VmRSS) before and after. Bounded: one round of N requests,
# each with a 60 s timeout; it kills only the server it started.
#
#   bash scripts/body-flood.sh            # N=50 SIZE=12058624
#   KMSD=/path/to/kmsd bash scripts/body-flood.sh   # another build
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
SIZE=${SIZE:-12058624}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"' EXIT
KMSD=${KMSD:-}
if [ -z "$KMSD" ]; then
	go build -o "$work/kmsd" ./cmd/kmsd
	KMSD=$work/kmsd
fi
"$KMSD" serve --dev --log-level error --data "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$work/data/dev.env" ] && break; sleep 0.1; done
. "$work/data/dev.env"
url=$KMSD_ENDPOINT
head -c "$SIZE" /dev/zero | tr '\0' 'a' >"$work/body"
mem() { awk '/^(VmHWM|VmRSS)/{printf "%s %d MB  ", $1, $2/1024}' "/proc/$pid/status"; echo; }
echo "before: $(mem)"
date=$(date -u +%Y%m%dT%H%M%SZ)
for _ in $(seq "$N"); do
	curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST --data-binary @"$work/body" \
		-H 'Content-Type: application/json;charset=UTF-8' -H "X-Sdk-Date: $date" \
		-H 'Authorization: SDK-HMAC-SHA256 Access=UNKNOWNACCESSKEY0000, SignedHeaders=content-type;x-sdk-date, Signature=00' \
		"$url/v1.0/$CLOUD_SDK_PROJECT_ID/kms/encrypt-data" >>"$work/codes" &
done
wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
echo "after $N x $SIZE-byte unauthenticated POSTs: $(mem)"
echo "answers: $(sort "$work/codes" | uniq -c | tr '\n' ' ')"
