#!/usr/bin/env bash
# Records what real OpenClaw node hosts (`openclaw node run`) and the real
# OpenClaw CLI send to a gateway, and what the release's own gateway answers,
# for the gateway tests of `pairdeck serve` (gateway/openclaw_*_test.go).
#
#   scripts/record-openclaw-hosts.sh VERSION [OUT_DIR]
#
# VERSION is an installed peer (see scripts/interop.sh for the install:
# ${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}/peer-VERSION).
# OUT_DIR defaults to client/testdata/openclaw/VERSION; two files are
# written there, in the format of the other recordings (README.md):
#   node-host.jsonl  real node hosts: A (shared token) connects, is approved,
#                    renamed, and reconnects with the device token it was
#                    given; B (shared token) is rejected; C has no token.
#   cli.jsonl        the release's CLI: nodes pending/approve/reject/status/
#                    list/rename/describe/remove, gateway call node.pair.request
#                    with permissions.
# Connections are labelled by who connected (`<client.id>/<displayName or
# mode>#<n>`). Everything runs offline on 127.0.0.1 with a temporary HOME and
# state dirs; every process started here is stopped on exit. Tokens the
# gateway issues become test-only placeholders, and pathEnv a fixed value.
set -euo pipefail

VERSION=${1:?usage: scripts/record-openclaw-hosts.sh VERSION [OUT_DIR]}
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${2:-$REPO/client/testdata/openclaw/$VERSION}
CACHE=${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}
PEER=$CACHE/peer-$VERSION
NODE=$PEER/node_modules/node/bin/node
MJS=$PEER/node_modules/openclaw/openclaw.mjs
[ -x "$NODE" ] && [ -f "$MJS" ] || { echo "record: no peer at $PEER (install it as scripts/interop.sh does)" >&2; exit 1; }
export WS_MODULE=$PEER/node_modules/ws

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pairdeck-record-hosts.XXXXXX")
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

log() { printf 'record: %s\n' "$*"; }
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
# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  while [ $SECONDS -lt "$deadline" ]; do "$@" && return 0; sleep 0.5; done
  return 1
}
# start NAME CMD...: in its own process group, output in $WORK/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=("$!")
  eval "PID_${name//-/_}=$!"
}
stop() { # stop NAME
  local v="PID_${1//-/_}" p
  p=${!v:-}
  [ -n "$p" ] || return 0
  kill -TERM -- "-$p" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$p" 2>/dev/null || true
}

TOKEN="test-only-shared-token-$VERSION"
mkdir -p "$OUT"

# The recording proxy: labels each connection by its connect params, writes
# every frame both ways and every close.
cat >"$WORK/proxy.cjs" <<'EOF'
const { WebSocketServer, WebSocket } = require(process.env.WS_MODULE);
const fs = require("fs");
const [listenPort, upstream, logFile] = process.argv.slice(2);
const out = fs.openSync(logFile, "a");
const t0 = Date.now();
const rec = (o) => fs.writeSync(out, JSON.stringify({ ...o, t: Date.now() - t0 }) + "\n");
const seen = new Map();
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(listenPort), maxPayload: 64 << 20 });
wss.on("connection", (down) => {
  let label = null;
  const early = [], queue = [];
  const log = (dir, s) => {
    let frame; try { frame = JSON.parse(s); } catch { frame = s; }
    if (!label && dir === "c2s" && frame && frame.method === "connect") {
      const c = (frame.params && frame.params.client) || {};
      const base = `${c.id}/${c.displayName || c.mode}`;
      const n = (seen.get(base) || 0) + 1;
      seen.set(base, n);
      label = `${base}#${n}`;
      for (const e of early) rec({ conn: label, ...e });
      early.length = 0;
    }
    const line = { dir, frame };
    if (label) rec({ conn: label, ...line }); else early.push(line);
  };
  const up = new WebSocket(upstream, { maxPayload: 64 << 20 });
  up.on("open", () => { for (const m of queue) up.send(m); queue.length = 0; });
  up.on("message", (d) => { const s = d.toString(); log("s2c", s); if (down.readyState === 1) down.send(s); });
  down.on("message", (d) => { const s = d.toString(); log("c2s", s); if (up.readyState === 1) up.send(s); else queue.push(s); });
  const fwd = (c) => (c >= 1000 && c < 5000 && ![1004, 1005, 1006, 1015].includes(c) ? c : 1000);
  up.on("close", (code, reason) => { rec({ conn: label || "unlabelled", dir: "close", by: "server", code, reason: reason.toString() }); try { down.close(fwd(code), reason.toString()); } catch {} });
  down.on("close", (code, reason) => { rec({ conn: label || "unlabelled", dir: "close", by: "client", code, reason: reason.toString() }); try { up.close(); } catch {} });
  up.on("error", () => { try { down.terminate(); } catch {} });
  down.on("error", () => { try { up.terminate(); } catch {} });
});
wss.on("listening", () => console.log("listening", listenPort));
EOF

# The scrubber: issued tokens become consistent placeholders, pathEnv a fixed
# value; the shared token is a test-only value already.
cat >"$WORK/scrub.cjs" <<'EOF'
const fs = require("fs");
const [inFile, outFile, shared] = process.argv.slice(2);
const secrets = new Map();
const placeholder = (kind, v) => {
  if (!secrets.has(v)) secrets.set(v, `test-only-${kind}-${secrets.size + 1}`);
  return secrets.get(v);
};
const walk = (o) => {
  if (Array.isArray(o)) return o.map(walk);
  if (!o || typeof o !== "object") return o;
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === "string" && v && v !== shared && !v.startsWith("test-only") &&
        ["deviceToken", "token", "recoveryScope", "bootstrapToken"].includes(k)) {
      out[k] = placeholder(k === "deviceToken" || k === "token" ? "device-token" : k === "recoveryScope" ? "recovery-scope" : "bootstrap-token", v);
    } else if (k === "pathEnv" && typeof v === "string") {
      out[k] = "/usr/local/bin:/usr/bin:/bin";
    } else out[k] = walk(v);
  }
  return out;
};
const lines = fs.readFileSync(inFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.stringify(walk(JSON.parse(l))));
fs.writeFileSync(outFile, lines.join("\n") + "\n");
EOF

P_GW=$(free_port); P_HOSTS=$(free_port); P_CLI=$(free_port)
mkdir -p "$WORK/gw/state" "$WORK/gw/home"
printf '%s\n' "{\"gateway\":{\"mode\":\"local\",\"port\":$P_GW,\"auth\":{\"mode\":\"token\",\"token\":\"$TOKEN\"}},\"update\":{\"checkOnStart\":false},\"discovery\":{\"mdns\":{\"mode\":\"off\"}}}" >"$WORK/gw/state/openclaw.json"
chmod 600 "$WORK/gw/state/openclaw.json"
log "openclaw $VERSION gateway on 127.0.0.1:$P_GW; hosts via :$P_HOSTS, CLI via :$P_CLI"
start gateway env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_GATEWAY_PORT \
  HOME="$WORK/gw/home" OPENCLAW_STATE_DIR="$WORK/gw/state" OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 \
  OPENCLAW_SKIP_CRON=1 OPENCLAW_SKIP_GMAIL_WATCHER=1 OPENCLAW_SKIP_CANVAS_HOST=1 OPENCLAW_SKIP_BROWSER_CONTROL_SERVER=1 \
  OPENCLAW_NO_RESPAWN=1 NO_COLOR=1 \
  timeout 1800 "$NODE" "$MJS" gateway run --bind loopback --port "$P_GW" --auth token --token "$TOKEN"
wait_port "$P_GW" 120 || { echo "record: the gateway did not listen" >&2; tail -20 "$WORK/gateway.log" >&2; exit 1; }
# 2026.9 answers "gateway starting" until it logs that it is ready.
case $VERSION in
  2026.[89].*|2026.1[0-9].*|202[7-9].*)
    wait_for 240 grep -q '\[gateway\] ready' "$WORK/gateway.log" || { echo "record: the gateway never said it was ready" >&2; exit 1; } ;;
esac
start proxy-hosts "$NODE" "$WORK/proxy.cjs" "$P_HOSTS" "ws://127.0.0.1:$P_GW" "$WORK/node-host.raw.jsonl"
start proxy-cli "$NODE" "$WORK/proxy.cjs" "$P_CLI" "ws://127.0.0.1:$P_GW" "$WORK/cli.raw.jsonl"
wait_port "$P_HOSTS" 30 && wait_port "$P_CLI" 30 || { echo "record: proxies did not start" >&2; exit 1; }

oc() { # the release's CLI with its own state, through the CLI proxy
  mkdir -p "$WORK/cli/state" "$WORK/cli/home"
  env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD \
    HOME="$WORK/cli/home" OPENCLAW_STATE_DIR="$WORK/cli/state" NO_COLOR=1 \
    timeout 120 "$NODE" "$MJS" "$@" --url "ws://127.0.0.1:$P_CLI" --token "$TOKEN"
}
json_of() { sed -n '/^[[{]/,$p'; }
host() { # host NAME TOKEN|- : a node host with its own state dir
  local name=$1 tok=$2 dir="$WORK/host-$1"
  mkdir -p "$dir/state" "$dir/home"
  local envtok=(-u OPENCLAW_GATEWAY_TOKEN)
  [ "$tok" != - ] && envtok=(OPENCLAW_GATEWAY_TOKEN="$tok")
  start "host-$name" env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_PASSWORD "${envtok[@]}" \
    HOME="$dir/home" OPENCLAW_STATE_DIR="$dir/state" OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 NO_COLOR=1 \
    timeout 900 "$NODE" "$MJS" node run --host 127.0.0.1 --port "$P_HOSTS" --display-name "Host $name"
}
pending_id() { # pending_id DISPLAYNAME: its request id from nodes pending --json
  oc nodes pending --json 2>/dev/null | json_of | "$NODE" -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const j=JSON.parse(s);const l=Array.isArray(j)?j:(j.pending||[]);
    const r=l.find(r=>r.displayName===process.argv[1]);if(r){console.log(r.requestId);process.exit(0)}}catch{}process.exit(1)})' "$1"
}
node_id_of() { # node_id_of DISPLAYNAME (from the hosts' recorded connects)
  "$NODE" -e '
    const fs=require("fs");for(const l of fs.readFileSync(process.argv[1],"utf8").split("\n")){if(!l)continue;const o=JSON.parse(l);
    const p=o.frame&&o.frame.params;if(o.dir==="c2s"&&o.frame.method==="connect"&&p.client.displayName===process.argv[2]&&p.device){console.log(p.device.id);process.exit(0)}}process.exit(1)' \
    "$WORK/node-host.raw.jsonl" "$1"
}
frames_seen() { grep -c "$1" "$WORK/node-host.raw.jsonl" 2>/dev/null || true; }

log "host A (shared token) connects"
host A "$TOKEN"
RA=""
wait_for 180 bash -c "grep -q '\"Host A\"' '$WORK/node-host.raw.jsonl' 2>/dev/null" || { echo "record: host A never connected" >&2; tail -20 "$WORK/host-A.log" >&2; exit 1; }
for _ in $(seq 1 60); do RA=$(pending_id "Host A" || true); [ -n "$RA" ] && break; sleep 1; done
[ -n "$RA" ] || { echo "record: no pending request for host A" >&2; tail -20 "$WORK/gateway.log" >&2; exit 1; }
NA=$(node_id_of "Host A")
sleep 8 # the 2026.9 host's calls after hello-ok, and their retries while it waits
log "approve host A ($RA)"
oc nodes approve "$RA" >"$WORK/approve-A.out" 2>&1 || true
sleep 8 # what the host does once approved
oc nodes status --json >/dev/null 2>&1 || true
oc nodes list --json >/dev/null 2>&1 || true
oc nodes describe --node "$NA" --json >/dev/null 2>&1 || true
oc nodes rename --node "$NA" --name "Host A renamed" >/dev/null 2>&1 || true

log "host B (shared token) connects and is rejected"
host B "$TOKEN"
RB=""
for _ in $(seq 1 120); do RB=$(pending_id "Host B" || true); [ -n "$RB" ] && break; sleep 1; done
[ -n "$RB" ] && { oc nodes reject "$RB" >/dev/null 2>&1 || true; oc nodes reject "$RB" >/dev/null 2>&1 || true; }
sleep 5
stop host-B

log "host A again, with the device token it was given (no shared token)"
stop host-A
before=$(frames_seen '"Host A"')
host A -
wait_for 180 bash -c "[ \$(grep -c '\"Host A\"' '$WORK/node-host.raw.jsonl') -gt $before ]" || true
sleep 8
stop host-A

log "host C (no token at all)"
host C -
wait_for 120 bash -c "grep -q '\"Host C\"' '$WORK/node-host.raw.jsonl' 2>/dev/null" || true
sleep 5
stop host-C

log "the CLI's node.pair.request with permissions, and remove"
oc gateway call node.pair.request --json --params '{"nodeId":"cli-perm-1","displayName":"CLI Perm","platform":"linux","permissions":{"camera":true,"screen":false}}' >/dev/null 2>&1 || true
oc nodes remove --node "$NA" >/dev/null 2>&1 || true
oc nodes status --json >/dev/null 2>&1 || true

stop proxy-hosts
stop proxy-cli
"$NODE" "$WORK/scrub.cjs" "$WORK/node-host.raw.jsonl" "$OUT/node-host.jsonl" "$TOKEN"
"$NODE" "$WORK/scrub.cjs" "$WORK/cli.raw.jsonl" "$OUT/cli.jsonl" "$TOKEN"
if grep -lE '"(deviceToken|token|bootstrapToken)":"[A-Za-z0-9_-]{32,}"' "$OUT/node-host.jsonl" "$OUT/cli.jsonl" >/dev/null 2>&1; then
  echo "record: a token was not replaced" >&2
  exit 1
fi
log "done: $OUT/node-host.jsonl ($(wc -l <"$OUT/node-host.jsonl") lines), $OUT/cli.jsonl ($(wc -l <"$OUT/cli.jsonl") lines)"
