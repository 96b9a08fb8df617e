#!/usr/bin/env bash
# Token-endpoint benchmark: portvakt beside the crypto floor and the peer server, in one sitting. Uses the
# token-endpoint benchmark harness in $SHARED (by default a folder beside the checkout).
#
# Default: one worker pinned to CPU 0, SQLite, durable replay store. The other cases, one command each:
#   CASE=pg        bench/run.sh   PostgreSQL (a throwaway cluster on 127.0.0.1), replay store in the database
#   CASE=pg-redis  bench/run.sh   PostgreSQL, replay store and shared rate-limit counts in Redis (throwaway)
#   CASE=workers2  bench/run.sh   one node, `serve --workers 2`, SQLite, unpinned (compare with the default)
#   CASE=nodes2    bench/run.sh   two nodes x one worker on PostgreSQL + Redis, unpinned, half the connections
#                                 each (compare with CASE=pg-redis)
# or set the knobs yourself: DB=sqlite|postgres REPLAY=database|redis WORKERS=N NODES=N.
# PEER=1 runs node-oidc-provider after portvakt, PEER=authlib the Authlib peer, PEER=all both, PEER=0 neither.
# SCENARIO=delegated puts consumer_org in every grant; SCENARIO=systemuser adds a system user for the consumer
# (bench/seed_systemuser.py) and puts authorization_details for it in every grant (docs/protocol.md §6.5).
# Usage: [CASE=...] [CONC="16"] [DURATION=15] [PEER=1] [SCENARIO=own|delegated|systemuser] [SEED_CLIENTS=100000] bench/run.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:?set SHARED to the folder of the peer harness}
PB=${PB:-${XDG_CACHE_HOME:-$HOME/.cache}/peerbench}
CONC=${CONC:-16}
DURATION=${DURATION:-15}
PEER=${PEER:-1}
PORT=${PORT:-18181}
OUT=${OUT:-$ROOT/bench/results}
PV=$ROOT/.venv/bin/portvakt
case "${CASE:-}" in
  "") ;;
  pg) DB=postgres ;;
  pg-redis) DB=postgres REPLAY=redis ;;
  workers2) WORKERS=2 ;;
  nodes2) DB=postgres REPLAY=redis NODES=2 ;;
  *) echo "unknown CASE=$CASE (pg, pg-redis, workers2, nodes2)" >&2; exit 2 ;;
esac
DB=${DB:-sqlite}
REPLAY=${REPLAY:-database}
WORKERS=${WORKERS:-1}
NODES=${NODES:-1}
mkdir -p "$OUT"
[ -x "$PB/venv/bin/python" ] && command -v wrk >/dev/null || bash "$SHARED/setup_peers.sh"

WORK=$(mktemp -d)
SPIDS=()
REDIS_PID=""
PGDIR=""
cleanup() {
  for p in "${SPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${SPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
  [ -n "$PGDIR" ] && bash "$ROOT/scripts/pg-throwaway.sh" stop "$PGDIR" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
export PORTVAKT_DATA_DIR=$WORK/var PORTVAKT_PORT=$PORT
# Every node issues as the first one, as nodes behind one load balancer do; the grants name it as their audience.
export PORTVAKT_ISSUER=http://127.0.0.1:$PORT/
# The rate limits stay on (their cost is part of every token) but high enough that one bench client never meets them.
export PORTVAKT_RATELIMIT__PER_CLIENT_PER_MINUTE=${PER_CLIENT_PER_MINUTE:-1000000}
export PORTVAKT_RATELIMIT__PER_ADDRESS_PER_MINUTE=${PER_ADDRESS_PER_MINUTE:-10000000}
if [ "$DB" = postgres ]; then
  PGDIR=$(mktemp -u -d "${TMPDIR:-/tmp}/portvakt-bench-pg-XXXXXXXX")  # its own folder: as root, the cluster's owner
  PORTVAKT_DATABASE_URL=$(bash "$ROOT/scripts/pg-throwaway.sh" start "$PGDIR" | tail -n 1)  # is `postgres`
  export PORTVAKT_DATABASE_URL
fi
if [ "$REPLAY" = redis ]; then
  RPORT=$(( 20000 + RANDOM % 40000 ))
  redis-server --bind 127.0.0.1 --port "$RPORT" --save "" --appendonly no --daemonize no > "$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export PORTVAKT_REPLAY_STORE=redis PORTVAKT_REDIS_URL=redis://127.0.0.1:$RPORT/0
fi
[ "${SCENARIO:-own}" = delegated ] && CONSUMER_ORG=${CONSUMER_ORG:-310838128}
if [ -n "${SEED_CLIENTS:-}" ]; then
  "$ROOT/.venv/bin/python" "$ROOT/bench/seed_clients.py" --clients "$SEED_CLIENTS" --orgs "${SEED_ORGS:-1000}" >/dev/null
fi
"$ROOT/bench/seed.sh" "$WORK" > "$WORK/client.env"
# shellcheck disable=SC1091
. "$WORK/client.env"
if [ "${SCENARIO:-own}" = systemuser ]; then
  "$ROOT/.venv/bin/python" "$ROOT/bench/seed_systemuser.py" "$CLIENT_ID" > "$WORK/systemuser.id"
  DETAILS=$("$ROOT/.venv/bin/python" -c 'import sys; sys.path.insert(0, sys.argv[1]); import seed_systemuser as s
print(s.DETAILS)' "$ROOT/bench")
fi

PIN=()
[ "$WORKERS" = 1 ] && [ "$NODES" = 1 ] && PIN=(taskset -c 0)
for n in $(seq 0 $((NODES - 1))); do
  "${PIN[@]}" "$PV" serve --port $((PORT + n)) --workers "$WORKERS" > "$WORK/server-$n.log" 2>&1 &
  SPIDS+=($!)
done
for n in $(seq 0 $((NODES - 1))); do
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$((PORT + n))/jwk" >/dev/null && break; sleep 0.1; done
done

if [ "$REPLAY" = redis ]; then
  # A fresh Redis holds no epoch, so the replay store's first call declares a loss and refuses every grant issued
  # before it (docs/security.md, Replay after a store crash): spend one grant first, then sign the bench's after it.
  "$PB/venv/bin/python" "$SHARED/gen_assertions.py" bodies --mode jwt-bearer --audience "$PORTVAKT_ISSUER" \
    --client-id "$CLIENT_ID" --key "$KEY" --kid "$KID" --scope "$SCOPE" --count 1 --ttl 60 --out "$WORK/prime" \
    2>/dev/null
  curl -s -o /dev/null -H "Content-Type: application/x-www-form-urlencoded" --data "@$WORK/prime" \
    "http://127.0.0.1:$PORT/token"
  sleep 3
fi

echo "== crypto floor (CPU 1)"
taskset -c 1 "$PB/venv/bin/python" "$SHARED/crypto_floor.py" --seconds 2 --json | tee -a "$OUT/crypto_floor.jsonl"

LABEL="portvakt-${SCENARIO:-own}${SEED_CLIENTS:+-$SEED_CLIENTS-clients}"
[ "$DB$REPLAY$WORKERS$NODES" = sqlitedatabase11 ] || LABEL="$LABEL-$DB-$REPLAY-w$WORKERS-n$NODES"
echo "== portvakt ($DB, replay store: $REPLAY, $NODES node(s) x $WORKERS worker(s)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench_node() {  # node index, connections, results dir; the harness follows the PID given, the server itself
  if [ -n "${DETAILS:-}" ]; then bench_node_systemuser "$@"; return; fi
  URL=http://127.0.0.1:$((PORT + $1))/token AUD=$PORTVAKT_ISSUER CLIENT_ID=$CLIENT_ID KEY=$KEY KID=$KID \
    SCOPE="$SCOPE" CONSUMER_ORG=${CONSUMER_ORG:-} SERVER_PID=${SPIDS[$1]} CONC="$2" DURATION=$DURATION \
    PB=$PB RESULTS_DIR=$3 bash "$SHARED/run_jwt_bearer.sh" "$LABEL"
}
bench_node_systemuser() {  # as the harness's run_jwt_bearer.sh, with the authorization_details claim in each grant
  local n=${COUNT:-30000} b=$PB/run/bodies-jwtb-su-c$2
  mkdir -p "$PB/run" "$3"
  "$PB/venv/bin/python" "$SHARED/gen_assertions.py" bodies --mode jwt-bearer --audience "$PORTVAKT_ISSUER" \
    --client-id "$CLIENT_ID" --key "$KEY" --kid "$KID" --scope "$SCOPE" --count "$n" --ttl 120 --iat-skew 2 \
    --claim-json "authorization_details=$DETAILS" --out "$b" 2>/dev/null
  python3 "$SHARED/bench_token.py" --url "http://127.0.0.1:$((PORT + $1))/token" --bodies "$b" \
    --server-pid "${SPIDS[$1]}" --concurrency "$2" --duration "$DURATION" --loadgen-cpus 1 --warmup-bodies 3000 \
    --warmup-duration 5 --label "$LABEL c=$2" | tee -a "$3/$LABEL.jsonl"
  rm -f "$b"
}
if [ "$WORKERS" = 1 ] && [ "$NODES" = 1 ]; then
  bench_node 0 "$CONC" "$OUT"
else
  # Several processes: the harness reads one PID's CPU, so the CPU of every server process (supervisor and
  # workers) is read here, over the whole run (warm-up included), and divided by every token issued.
  cpu0=$("$ROOT/.venv/bin/python" "$ROOT/bench/proc_cpu.py" "${SPIDS[@]}")
  RUNS=()
  for n in $(seq 0 $((NODES - 1))); do
    mkdir -p "$WORK/res-$n"
    PB_RUN=$WORK/pb-$n
    mkdir -p "$PB_RUN/run"; ln -sfn "$PB/venv" "$PB_RUN/venv"
    PB=$PB_RUN bench_node "$n" $((CONC / NODES)) "$WORK/res-$n" &
    RUNS+=($!)
  done
  wait_ok=0
  for j in "${RUNS[@]}"; do wait "$j" || wait_ok=$?; done
  cpu1=$("$ROOT/.venv/bin/python" "$ROOT/bench/proc_cpu.py" "${SPIDS[@]}")
  [ "$wait_ok" = 0 ] || { echo "a node's run failed" >&2; exit 1; }
  python3 - "$cpu0" "$cpu1" "$LABEL c=$CONC" "$WORK"/res-*/"$LABEL.jsonl" <<'PY' | tee -a "$OUT/$LABEL.jsonl"
import json, sys, time
cpu0, cpu1, label, files = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:]
runs = [json.loads(open(f).read().splitlines()[-1]) for f in files]
issued = sum(r["tokens"] + r["warmup"]["ok"] + 3 for r in runs)  # measured + warm-up + 3 preflight requests
print(json.dumps({
    "label": label, "nodes": len(runs), "tokens_per_s": round(sum(r["tokens_per_s"] for r in runs), 1),
    "cpu_us_per_token": round((cpu1 - cpu0) * 1e6 / max(1, issued), 1), "server_cpu_s": round(cpu1 - cpu0, 2),
    "tokens_counted": issued, "p50_ms": max(r["p50_ms"] for r in runs), "p99_ms": max(r["p99_ms"] for r in runs),
    "errors": sum(r["errors"] for r in runs), "per_node": [{k: r[k] for k in ("tokens_per_s", "p50_ms", "p99_ms",
    "errors", "duration_s")} for r in runs], "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z")}))
PY
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
for p in "${SPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${SPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
SPIDS=()

if [ "$PEER" = 1 ] || [ "$PEER" = all ]; then
  echo "== peer: node-oidc-provider"
  CONC="$CONC" DURATION=$DURATION RESULTS_DIR=$OUT bash "$SHARED/run_oidc_provider.sh"
fi
if [ "$PEER" = authlib ] || [ "$PEER" = all ]; then
  echo "== peer: Authlib on Flask + gunicorn (1 gthread worker x 4 threads)"
  CONC="$CONC" DURATION=$DURATION RESULTS_DIR=$OUT bash "$SHARED/run_authlib.sh"
fi
echo "results appended to $OUT/*.jsonl"
