#!/usr/bin/env bash
# Token-endpoint benchmark: portvakt (one worker pinned to CPU 0, SQLite, durable replay store) beside the
# crypto floor and the peer server, in one sitting. Uses the token-endpoint benchmark harness in $SHARED
# (by default a folder beside the checkout).
# Usage: [CONC="16"] [DURATION=15] [PEER=1] [SCENARIO=own|delegated] [SEED_CLIENTS=100000] bench/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared/bench}
PB=${PB:-${XDG_CACHE_HOME:-$HOME/.cache}/peerbench}
CONC=${CONC:-16}
DURATION=${DURATION:-15}
PEER=${PEER:-1}
PORT=${PORT:-18181}
OUT=${OUT:-$ROOT/bench/results}
PV=$ROOT/.venv/bin/portvakt
mkdir -p "$OUT"
[ -x "$PB/venv/bin/python" ] && command -v wrk >/dev/null || bash "$SHARED/setup_peers.sh"

WORK=$(mktemp -d)
SPID=""
trap '[ -n "$SPID" ] && kill $SPID 2>/dev/null; rm -rf "$WORK"' EXIT
export PORTVAKT_DATA_DIR=$WORK/var PORTVAKT_PORT=$PORT
[ "${SCENARIO:-own}" = delegated ] && CONSUMER_ORG=${CONSUMER_ORG:-310838128}
if [ -n "${SEED_CLIENTS:-}" ]; then
  "$ROOT/.venv/bin/python" "$ROOT/bench/seed_clients.py" --clients "$SEED_CLIENTS" --orgs "${SEED_ORGS:-1000}" >/dev/null
fi
"$ROOT/bench/seed.sh" "$WORK" > "$WORK/client.env"
# shellcheck disable=SC1091
. "$WORK/client.env"

taskset -c 0 "$PV" serve --port "$PORT" > "$WORK/server.log" 2>&1 &
SPID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/jwk" >/dev/null && break; sleep 0.1; done

echo "== crypto floor (CPU 1)"
taskset -c 1 "$PB/venv/bin/python" "$SHARED/crypto_floor.py" --seconds 2 --json | tee -a "$OUT/crypto_floor.jsonl"

echo "== portvakt"
URL=http://127.0.0.1:$PORT/token AUD=http://127.0.0.1:$PORT/ CLIENT_ID=$CLIENT_ID KEY=$KEY KID=$KID \
  SCOPE="$SCOPE" CONSUMER_ORG=${CONSUMER_ORG:-} SERVER_PID=$SPID CONC="$CONC" DURATION=$DURATION \
  RESULTS_DIR=$OUT bash "$SHARED/run_jwt_bearer.sh" "portvakt-${SCENARIO:-own}${SEED_CLIENTS:+-$SEED_CLIENTS-clients}"
kill $SPID; SPID=""

if [ "$PEER" = 1 ]; then
  echo "== peer"
  CONC="$CONC" DURATION=$DURATION RESULTS_DIR=$OUT bash "$SHARED/run_oidc_provider.sh"
fi
echo "results appended to $OUT/*.jsonl"
