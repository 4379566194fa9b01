#!/usr/bin/env bash
# Records the replay fixtures of package client from a real OpenClaw release.
#
#   scripts/record-openclaw.sh VERSION [OUT_DIR]
#
# VERSION is an installed peer (see scripts/interop.sh for the install:
# ${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}/peer-VERSION with
# node_modules/node/bin/node and node_modules/openclaw/openclaw.mjs).
# OUT_DIR defaults to client/testdata/openclaw/VERSION.
#
# It starts the release's gateway offline on 127.0.0.1 (temporary HOME and
# OPENCLAW_STATE_DIR, channels and Bonjour off) twice: once with token auth,
# where scripts/openclaw-recorder.cjs records the startup, handshake, node
# pairing, node connect and device pairing scenarios, and once with password
# auth and a strict failed-auth limit (loopback not exempt), for the password
# and rate-limit scenarios. Every process started here is stopped on exit.
# The secrets used are test-only values; tokens the gateway issues are
# replaced by placeholders in the files (see the recorder).
set -euo pipefail

VERSION=${1:?usage: scripts/record-openclaw.sh VERSION [OUT_DIR]}
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$REPO/client/testdata/openclaw/$VERSION}
CACHE=${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}
PEER=$CACHE/peer-$VERSION
NODE=$PEER/node_modules/node/bin/node
MJS=$PEER/node_modules/openclaw/openclaw.mjs
[ -x "$NODE" ] && [ -f "$MJS" ] || { echo "record: no peer at $PEER (install it as scripts/interop.sh does)" >&2; exit 1; }
export WS_MODULE=$PEER/node_modules/ws

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pairdeck-record.XXXXXX")
PIDS=()
cleanup() {
  set +e
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 25); do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$p" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_port() { # PORT SECONDS
  local deadline=$((SECONDS + $2))
  while [ $SECONDS -lt "$deadline" ]; do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# start_gateway NAME PORT CONFIG-JSON ARGS...: a gateway with its own state,
# in its own process group.
start_gateway() {
  local name=$1 port=$2 cfg=$3; shift 3
  mkdir -p "$WORK/$name/state" "$WORK/$name/home"
  printf '%s\n' "$cfg" >"$WORK/$name/state/openclaw.json"
  chmod 600 "$WORK/$name/state/openclaw.json"
  setsid env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_GATEWAY_PORT \
    HOME="$WORK/$name/home" OPENCLAW_STATE_DIR="$WORK/$name/state" \
    OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 OPENCLAW_NO_RESPAWN=1 NO_COLOR=1 \
    timeout 1800 "$NODE" "$MJS" gateway run --bind loopback --port "$port" "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  wait_port "$port" 120 || { echo "record: $name did not listen on $port" >&2; tail -20 "$WORK/$name.log" >&2; exit 1; }
}

stop_last_gateway() {
  local p=${PIDS[-1]}
  kill -TERM -- "-$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$p" 2>/dev/null || true
  unset 'PIDS[-1]'
}

TOKEN="test-only-shared-token-$VERSION"
PASSWORD="test-only-password-$VERSION"
mkdir -p "$OUT"
recorder() { "$NODE" "$REPO/scripts/openclaw-recorder.cjs"; }

echo "record: openclaw $("$NODE" "$MJS" --version 2>/dev/null | head -1) -> $OUT"

P1=$(free_port)
start_gateway token "$P1" "{\"gateway\":{\"mode\":\"local\",\"port\":$P1,\"auth\":{\"mode\":\"token\",\"token\":\"$TOKEN\"}},\"update\":{\"checkOnStart\":false},\"discovery\":{\"mdns\":{\"mode\":\"off\"}}}" \
  --auth token --token "$TOKEN"
# The startup scenario connects from the moment the port answers until a
# handshake succeeds, so it also waits for the gateway to be ready.
OC_URL="ws://127.0.0.1:$P1" OC_TOKEN=$TOKEN OUT_DIR=$OUT OC_STARTUP=1 recorder
OC_URL="ws://127.0.0.1:$P1" OC_TOKEN=$TOKEN OUT_DIR=$OUT OC_SCENARIOS=handshake,legacy,node,device recorder
stop_last_gateway

P2=$(free_port)
start_gateway password "$P2" "{\"gateway\":{\"mode\":\"local\",\"port\":$P2,\"auth\":{\"mode\":\"password\",\"password\":\"$PASSWORD\",\"rateLimit\":{\"exemptLoopback\":false,\"maxAttempts\":3,\"windowMs\":60000,\"lockoutMs\":60000}}},\"update\":{\"checkOnStart\":false},\"discovery\":{\"mdns\":{\"mode\":\"off\"}}}" \
  --auth password --password "$PASSWORD"
OC_PW_URL="ws://127.0.0.1:$P2" OC_PASSWORD=$PASSWORD OC_WAIT_PW=1 OUT_DIR=$WORK recorder
OC_URL="ws://127.0.0.1:$P1" OC_TOKEN=$TOKEN OC_PW_URL="ws://127.0.0.1:$P2" OC_PASSWORD=$PASSWORD OUT_DIR=$OUT OC_SCENARIOS=password recorder
stop_last_gateway

# Nothing secret may remain but the test-only values.
if grep -rlE '"(deviceToken|token)":"[A-Za-z0-9_-]{32,}"' "$OUT" >/dev/null 2>&1; then
  echo "record: a token was not replaced in $OUT:" >&2
  grep -rlE '"(deviceToken|token)":"[A-Za-z0-9_-]{32,}"' "$OUT" >&2
  exit 1
fi
echo "record: done ($(ls "$OUT" | wc -l) files)"
