#!/usr/bin/env bash
# Seed a bench registry in PORTVAKT_DATA_DIR and print CLIENT_ID, KEY, KID, SCOPE as shell assignments.
# The consumer 310838128 has access to bench:api/read and has delegated it to the vendor (SCENARIO=delegated).
# PORTVAKT_PORT must be the port the server will use: the delegation source is the server's own Altinn side.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PV=$ROOT/.venv/bin/portvakt
WORK=$1
{
  "$PV" init
  "$PV" org add 974760673 --name "API provider"
  "$PV" org add 314330897 --name "Vendor"
  "$PV" org add 310838128 --name "Consumer"
  "$PV" scope add bench:api/read --owner 974760673 --delegation-source "http://127.0.0.1:${PORTVAKT_PORT}/"
  "$PV" access grant bench:api/read 314330897
  "$PV" access grant bench:api/read 310838128
  "$PV" scheme add --owner 974760673 --scope bench:api/read --title-nb "Bench" > "$WORK/scheme.json"
  "$PV" delegation add --consumer 310838128 --supplier 314330897 \
    --scheme "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["scheme_id"])' "$WORK/scheme.json")"
  "$PV" keys generate --out "$WORK/keys"
  "$PV" client add --org 314330897 --name bench --scope bench:api/read --public-key "$WORK/keys/client.jwk.json" \
    > "$WORK/client.json"
} > "$WORK/seed.log" 2>&1
python3 - "$WORK" <<'PY'
import json, sys
w = sys.argv[1]
c = json.load(open(f"{w}/client.json"))
print(f"CLIENT_ID={c['client_id']}\nKEY={w}/keys/client.pem\nKID={c['keys'][0]['kid']}\nSCOPE=bench:api/read")
PY
