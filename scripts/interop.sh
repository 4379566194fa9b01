#!/usr/bin/env bash
# Interoperability check against a real OpenClaw 2026.4.12 (gateway protocol 3).
#
#   direction 1: the OpenClaw CLI (nodes pending/approve/reject/status/rename/list,
#                gateway call node.pair.request) against `pairdeck serve`
#   direction 2: `pairdeck nodes …` and `pairdeck console` against the OpenClaw
#                gateway
#
# Opt-in, not part of CI: the first run installs the peer with npm (about
# 2.5 minutes, 1.3 GB) into ${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop},
# later runs reuse it. Everything runs on 127.0.0.1 with temporary state dirs,
# free ports and bounded timeouts; every process started here is stopped on exit.
#
# Usage: scripts/interop.sh [--direction 1|2|all] [--no-console] [--keep]
#   --direction  run one direction only (default: all)
#   --no-console skip the console (tmux) checks of direction 2
#   --keep       keep the work dir (logs, recorded frames) after the run
# Environment: PAIRDECK_INTEROP_CACHE (peer install dir), PAIRDECK_BIN (use this
# pairdeck binary instead of building one).
#
# Every check prints PASS or FAIL with what differed; the last line is
# "N passed, N failed" and the exit status is non-zero if anything failed.
# docs/interop.md explains the checks and the peer's behaviour.
set -euo pipefail

PEER_VERSION=2026.4.12
NODE_MAJOR=24
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}
PEER=$CACHE/peer-$PEER_VERSION
DIRECTION=all
CONSOLE=1
KEEP=0

while [ $# -gt 0 ]; do
  case $1 in
    --direction) DIRECTION=${2:?}; shift 2 ;;
    --direction=*) DIRECTION=${1#*=}; shift ;;
    --no-console) CONSOLE=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "interop: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
case $DIRECTION in 1|2|all) ;; *) echo "interop: --direction must be 1, 2 or all" >&2; exit 2 ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pairdeck-interop.XXXXXX")
PGROUPS=()
TMUX_SOCK=pairdeck-interop-$$
PASSED=0
FAILED=0
FAILS=()

cleanup() {
  local rc=$?
  set +e
  tmux -L "$TMUX_SOCK" kill-server >/dev/null 2>&1
  for pg in "${PGROUPS[@]}"; do kill -TERM -- "-$pg" 2>/dev/null; done
  for pg in "${PGROUPS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$pg" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pg" 2>/dev/null
  done
  if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "interop: work dir kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n== %s\n' "$*"; }
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() {
  FAILED=$((FAILED + 1)); FAILS+=("$1")
  printf 'FAIL %s\n' "$1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -c 4000 | sed 's/^/     | /'; echo; fi
}

# check NAME JSON JQ-FILTER [HINT]: PASS when the filter is true for JSON.
check() {
  local name=$1 json=$2 filter=$3 hint=${4:-}
  if printf '%s' "$json" | jq -e "$filter" >/dev/null 2>&1; then
    pass "$name"
  else
    fail "$name" "wanted: $filter${hint:+ ($hint)}
got: $(printf '%s' "$json" | head -c 3000)"
  fi
}

# runq VAR CMD...: run CMD (bounded), keep stdout in VAR, stderr in ${VAR}_ERR
# and the exit status in ${VAR}_RC.
runq() {
  local __v=$1; shift
  local out err rc=0
  out=$("$@" 2>"$WORK/.stderr") || rc=$?
  err=$(cat "$WORK/.stderr")
  printf -v "$__v" '%s' "$out"
  printf -v "${__v}_ERR" '%s' "$err"
  printf -v "${__v}_RC" '%s' "$rc"
  { printf '$ %s\n' "$*"; printf '%s\n' "$out"; [ -z "$err" ] || printf '[stderr] %s\n' "$err"; printf '[exit %s]\n' "$rc"; } >>"$WORK/commands.log"
}

# jsonpart TEXT: the JSON value of TEXT, skipping lines printed before it.
jsonpart() { printf '%s\n' "$1" | sed -n '/^[[{]/,$p'; }

# start NAME CMD...: run CMD in the background in its own process group
# (timeout makes one), bounded to an hour, output to $WORK/NAME.log.
start() {
  local name=$1; shift
  timeout --kill-after=5 3600 "$@" >"$WORK/$name.log" 2>&1 &
  PGROUPS+=("$!")
}

wait_port() { # wait_port PORT SECONDS
  local port=$1 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  return 1
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- prerequisites
for tool in jq npm go timeout; do
  command -v "$tool" >/dev/null || { echo "interop: needs $tool on PATH" >&2; exit 1; }
done
if [ "$CONSOLE" = 1 ] && [ "$DIRECTION" != 1 ] && ! command -v tmux >/dev/null; then
  echo "interop: tmux not found: console checks skipped (apt-get install tmux)" >&2
  CONSOLE=0
fi

# ---------------------------------------------------------------- peer install
NODE=$PEER/node_modules/node/bin/node
OPENCLAW_MJS=$PEER/node_modules/openclaw/openclaw.mjs
install_peer() {
  if [ -x "$NODE" ] && [ -f "$OPENCLAW_MJS" ] &&
     [ "$(jq -r .version "$PEER/node_modules/openclaw/package.json" 2>/dev/null)" = "$PEER_VERSION" ]; then
    return 0
  fi
  log "installing openclaw@$PEER_VERSION and node@$NODE_MAJOR into $PEER (first run: a few minutes)"
  mkdir -p "$PEER"
  # One of openclaw's dependencies pins a linkedom version that the registry
  # no longer has; the override picks one that exists.
  cat >"$PEER/package.json" <<EOF
{
  "name": "pairdeck-interop-peer",
  "private": true,
  "version": "0.0.0",
  "dependencies": { "node": "$NODE_MAJOR", "openclaw": "$PEER_VERSION" },
  "overrides": { "linkedom": "0.18.13" }
}
EOF
  (cd "$PEER" && timeout 1500 npm install --no-audit --no-fund --loglevel=error) ||
    { echo "interop: npm install failed in $PEER" >&2; exit 1; }
}
install_peer
NODE_V=$("$NODE" --version 2>/dev/null || true)
case $NODE_V in
  "v$NODE_MAJOR".*) ;;
  *) echo "interop: $NODE does not run node $NODE_MAJOR (got '${NODE_V}'); remove $PEER and retry" >&2; exit 1 ;;
esac
OC_V=$(timeout 60 "$NODE" "$OPENCLAW_MJS" --version 2>&1 || true)
echo "peer: $OC_V, node $NODE_V"
case $OC_V in *"$PEER_VERSION"*) ;; *) echo "interop: unexpected openclaw version: $OC_V" >&2; exit 1 ;; esac
export WS_MODULE=$PEER/node_modules/ws

# ---------------------------------------------------------------- pairdeck
if [ -n "${PAIRDECK_BIN:-}" ]; then
  PAIRDECK=$PAIRDECK_BIN
else
  PAIRDECK=$WORK/pairdeck
  log "building pairdeck"
  (cd "$REPO" && timeout 600 go build -o "$PAIRDECK" .) || { echo "interop: go build failed" >&2; exit 1; }
fi

# ---------------------------------------------------------------- helpers (node)
# A logging WebSocket proxy: every frame both ways goes to a JSONL file, so the
# checks can look at the exact connect params, hello-ok and frames.
cat >"$WORK/wsproxy.cjs" <<'EOF'
const { WebSocketServer, WebSocket } = require(process.env.WS_MODULE);
const fs = require("fs");
const [listenPort, upstream, logFile] = process.argv.slice(2);
const out = fs.createWriteStream(logFile, { flags: "a" });
let conn = 0;
const rec = (o) => out.write(JSON.stringify(o) + "\n");
const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(listenPort), maxPayload: 64 << 20 });
wss.on("connection", (down) => {
  const id = ++conn, queue = [];
  const up = new WebSocket(upstream, { maxPayload: 64 << 20 });
  const log = (dir, s) => { let frame; try { frame = JSON.parse(s); } catch { frame = s; } rec({ conn: id, dir, t: Date.now(), frame }); };
  up.on("open", () => { for (const m of queue) up.send(m); queue.length = 0; });
  up.on("message", (d) => { const s = d.toString(); log("s2c", s); if (down.readyState === 1) down.send(s); });
  down.on("message", (d) => { const s = d.toString(); log("c2s", s); if (up.readyState === 1) up.send(s); else queue.push(s); });
  const fwdCode = (c) => (c >= 1000 && c < 5000 && ![1004, 1005, 1006, 1015].includes(c) ? c : 1000);
  up.on("close", (code, reason) => { rec({ conn: id, dir: "s-close", t: Date.now(), code, reason: reason.toString() }); try { down.close(fwdCode(code), reason.toString()); } catch {} });
  down.on("close", (code, reason) => { rec({ conn: id, dir: "c-close", t: Date.now(), code, reason: reason.toString() }); try { up.close(); } catch {} });
  up.on("error", () => { try { down.terminate(); } catch {} });
  down.on("error", () => { try { up.terminate(); } catch {} });
});
wss.on("listening", () => console.log("listening", listenPort));
EOF

cat >"$WORK/freeports.cjs" <<'EOF'
const net = require("net");
const n = Number(process.argv[2] || 1), servers = [];
(async () => {
  for (let i = 0; i < n; i++) servers.push(await new Promise((res) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => res(s)); }));
  console.log(servers.map((s) => s.address().port).join(" "));
  servers.forEach((s) => s.close());
})();
EOF

# Frame checks against the peer's own schemas (mirrored from the protocol
# schema of openclaw 2026.4.12: ResponseFrame, EventFrame, HelloOk, Snapshot,
# PresenceEntry, ConnectParams; all are additionalProperties:false).
cat >"$WORK/frames.cjs" <<'EOF'
const fs = require("fs");
const [file, mode] = process.argv.slice(2);
const recs = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const out = (s) => console.log(s);
const isStr = (v) => typeof v === "string" && v.length > 0;
const isInt = (v, min = 0) => Number.isInteger(v) && v >= min;
const strArr = (v) => Array.isArray(v) && v.every(isStr);
function keysOnly(o, allowed, where, errs) {
  if (!o || typeof o !== "object" || Array.isArray(o)) { errs.push(`${where}: not an object`); return false; }
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errs.push(`${where}: unexpected property '${k}'`);
  return true;
}
const CLIENT_IDS = ["webchat-ui", "openclaw-control-ui", "openclaw-tui", "webchat", "cli", "gateway-client", "openclaw-macos", "openclaw-ios", "openclaw-android", "node-host", "test", "fingerprint", "openclaw-probe"];
const CLIENT_MODES = ["webchat", "cli", "ui", "backend", "node", "probe", "test"];
function checkResponse(f, errs) {
  keysOnly(f, ["type", "id", "ok", "payload", "error"], "res", errs);
  if (!isStr(f.id)) errs.push("res.id: not a non-empty string");
  if (typeof f.ok !== "boolean") errs.push("res.ok: not a boolean");
  if (f.error !== undefined) {
    keysOnly(f.error, ["code", "message", "details", "retryable", "retryAfterMs"], "res.error", errs);
    if (!isStr(f.error.code)) errs.push("res.error.code: empty");
    if (!isStr(f.error.message)) errs.push("res.error.message: empty");
    if (f.error.retryable !== undefined && typeof f.error.retryable !== "boolean") errs.push("res.error.retryable: not a boolean");
  }
}
function checkEvent(f, errs) {
  keysOnly(f, ["type", "event", "payload", "seq", "stateVersion"], "event", errs);
  if (!isStr(f.event)) errs.push("event.event: empty");
  if (f.seq !== undefined && !isInt(f.seq)) errs.push("event.seq: not an integer >= 0");
}
const PRESENCE_KEYS = ["host", "ip", "version", "platform", "deviceFamily", "modelIdentifier", "mode", "lastInputSeconds", "reason", "tags", "text", "ts", "deviceId", "roles", "scopes", "instanceId"];
function checkHello(h, E) {
  // E maps a part of hello-ok to its list of errors.
  keysOnly(h, ["type", "protocol", "server", "features", "snapshot", "canvasHostUrl", "auth", "policy"], "hello-ok", E.top);
  if (h.type !== "hello-ok") E.top.push("hello-ok.type");
  if (!isInt(h.protocol, 1)) E.top.push("hello-ok.protocol: not an integer >= 1");
  if (keysOnly(h.server, ["version", "connId"], "hello-ok.server", E.top)) {
    if (!isStr(h.server.version)) E.top.push("hello-ok.server.version: empty");
    if (!isStr(h.server.connId)) E.top.push("hello-ok.server.connId: empty");
  }
  if (keysOnly(h.features, ["methods", "events"], "hello-ok.features", E.features)) {
    if (!strArr(h.features.methods)) E.features.push("hello-ok.features.methods: not an array of non-empty strings");
    if (!strArr(h.features.events)) E.features.push("hello-ok.features.events: not an array of non-empty strings");
  }
  const s = h.snapshot;
  if (keysOnly(s, ["presence", "health", "stateVersion", "uptimeMs", "configPath", "stateDir", "sessionDefaults", "authMode", "updateAvailable"], "hello-ok.snapshot", E.snapshot)) {
    if (!Array.isArray(s.presence)) E.snapshot.push("hello-ok.snapshot.presence: missing or not an array");
    else s.presence.forEach((p, i) => { keysOnly(p, PRESENCE_KEYS, `hello-ok.snapshot.presence[${i}]`, E.presence); if (!isInt(p.ts)) E.presence.push(`hello-ok.snapshot.presence[${i}].ts: missing`); });
    if (!("health" in s)) E.snapshot.push("hello-ok.snapshot.health: missing");
    if (keysOnly(s.stateVersion, ["presence", "health"], "hello-ok.snapshot.stateVersion", E.snapshot)) {
      if (!isInt(s.stateVersion.presence) || !isInt(s.stateVersion.health)) E.snapshot.push("hello-ok.snapshot.stateVersion: presence/health not integers >= 0");
    }
    if (!isInt(s.uptimeMs)) E.snapshot.push("hello-ok.snapshot.uptimeMs: not an integer >= 0");
    if (s.authMode !== undefined && !["none", "token", "password", "trusted-proxy"].includes(s.authMode)) E.snapshot.push("hello-ok.snapshot.authMode: not none|token|password|trusted-proxy");
    if (s.sessionDefaults !== undefined && keysOnly(s.sessionDefaults, ["defaultAgentId", "mainKey", "mainSessionKey", "scope"], "hello-ok.snapshot.sessionDefaults", E.snapshot)) {
      for (const k of ["defaultAgentId", "mainKey", "mainSessionKey"]) if (!isStr(s.sessionDefaults[k])) E.snapshot.push(`hello-ok.snapshot.sessionDefaults.${k}: missing`);
    }
  }
  if (h.auth !== undefined && keysOnly(h.auth, ["deviceToken", "role", "scopes", "issuedAtMs", "deviceTokens"], "hello-ok.auth", E.auth)) {
    if (!isStr(h.auth.deviceToken)) E.auth.push("hello-ok.auth.deviceToken: required when auth is present (omit auth, or issue a device token)");
    if (!isStr(h.auth.role)) E.auth.push("hello-ok.auth.role: empty");
    if (!strArr(h.auth.scopes)) E.auth.push("hello-ok.auth.scopes: not an array");
  }
  if (keysOnly(h.policy, ["maxPayload", "maxBufferedBytes", "tickIntervalMs"], "hello-ok.policy", E.policy)) {
    for (const k of ["maxPayload", "maxBufferedBytes", "tickIntervalMs"]) if (!isInt(h.policy[k], 1)) E.policy.push(`hello-ok.policy.${k}: not an integer >= 1`);
  }
}
function checkConnect(p, errs) {
  keysOnly(p, ["minProtocol", "maxProtocol", "client", "caps", "commands", "permissions", "pathEnv", "role", "scopes", "device", "auth", "locale", "userAgent"], "connect.params", errs);
  if (keysOnly(p.client, ["id", "displayName", "version", "platform", "deviceFamily", "modelIdentifier", "mode", "instanceId"], "connect.params.client", errs)) {
    if (!CLIENT_IDS.includes(p.client.id)) errs.push(`connect.params.client.id '${p.client.id}' is not one of ${CLIENT_IDS.join(",")}`);
    if (!CLIENT_MODES.includes(p.client.mode)) errs.push(`connect.params.client.mode '${p.client.mode}' is not one of ${CLIENT_MODES.join(",")}`);
    if (!isStr(p.client.version) || !isStr(p.client.platform)) errs.push("connect.params.client.version/platform: empty");
  }
  if (p.device !== undefined) keysOnly(p.device, ["id", "publicKey", "signature", "signedAt", "nonce"], "connect.params.device", errs);
  if (p.auth !== undefined) keysOnly(p.auth, ["token", "bootstrapToken", "deviceToken", "password"], "connect.params.auth", errs);
}
const conns = new Map();
for (const r of recs) { if (!conns.has(r.conn)) conns.set(r.conn, []); conns.get(r.conn).push(r); }
const report = (name, errs) => out(errs.length ? `FAIL ${name}\t${[...new Set(errs)].slice(0, 12).join("; ")}` : `PASS ${name}`);
if (mode === "server") {
  // frames a gateway under test sent to the OpenClaw CLI
  const resErrs = [], evErrs = [], chErrs = [];
  const E = { top: [], features: [], snapshot: [], presence: [], auth: [], policy: [] };
  let hellos = 0, presenceEntries = 0;
  for (const [id, rs] of conns) {
    const first = rs.find((r) => r.dir === "s2c");
    if (!first || first.frame?.type !== "event" || first.frame.event !== "connect.challenge" || !isStr(first.frame.payload?.nonce)) chErrs.push(`conn ${id}: first frame is not connect.challenge with a nonce`);
    const connectReq = rs.find((r) => r.dir === "c2s" && r.frame?.method === "connect");
    for (const r of rs) {
      if (r.dir !== "s2c") continue;
      const f = r.frame;
      if (typeof f !== "object") { resErrs.push(`conn ${id}: a frame is not JSON`); continue; }
      if (f.type === "res") {
        checkResponse(f, resErrs);
        if (connectReq && f.id === connectReq.frame.id && f.ok) { hellos++; presenceEntries += (f.payload?.snapshot?.presence ?? []).length; checkHello(f.payload, E); }
      } else if (f.type === "event") checkEvent(f, evErrs);
      else resErrs.push(`conn ${id}: frame type '${f.type}'`);
    }
  }
  report("frames: each connection opens with connect.challenge {nonce}", chErrs);
  report("frames: every res fits the peer's ResponseFrame schema (the CLI drops others and times out)", resErrs);
  report("frames: every event fits the peer's EventFrame schema", evErrs);
  const none = hellos ? null : ["no successful connect seen"];
  report(`frames: hello-ok type/protocol/server fit the peer's HelloOk schema (${hellos} checked)`, none ?? E.top);
  report("frames: hello-ok.features fits the peer's schema", none ?? E.features);
  report("frames: hello-ok.snapshot fits the peer's Snapshot schema", none ?? E.snapshot);
  report(`frames: hello-ok.snapshot.presence entries fit the peer's PresenceEntry schema (${presenceEntries} seen)`, none ?? (presenceEntries ? E.presence : ["no presence entry seen (no node was connected)"]));
  report("frames: hello-ok.auth fits the peer's schema (deviceToken required when auth is sent)", none ?? E.auth);
  report("frames: hello-ok.policy fits the peer's schema", none ?? E.policy);
} else if (mode === "client") {
  // connect params a client under test sent to the OpenClaw gateway
  const errs = [];
  let n = 0;
  for (const [, rs] of conns) for (const r of rs) if (r.dir === "c2s" && r.frame?.method === "connect") { n++; checkConnect(r.frame.params, errs); }
  report(`frames: connect params fit the peer's ConnectParams schema (${n} checked)`, n ? errs : ["no connect seen"]);
} else if (mode === "summary") {
  // the connect params and methods each connection used (tokens and signatures redacted)
  for (const [id, rs] of conns) {
    const calls = rs.filter((r) => r.dir === "c2s" && r.frame?.type === "req");
    const c = calls.find((r) => r.frame.method === "connect");
    const p = c ? JSON.parse(JSON.stringify(c.frame.params)) : null;
    if (p?.auth) for (const k of Object.keys(p.auth)) p.auth[k] = "<redacted>";
    if (p?.device) { p.device.signature = "<sig>"; p.device.publicKey = "<pub>"; }
    out(JSON.stringify({ conn: id, connect: p, calls: calls.filter((r) => r.frame.method !== "connect").map((r) => ({ method: r.frame.method, params: r.frame.params })) }));
  }
}
EOF

PORTS=($("$NODE" "$WORK/freeports.cjs" 4))
TOKEN="interop-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

# oc: the OpenClaw CLI with its own throwaway state (and so its own identity).
oc() {
  env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN \
    HOME="$WORK/oc-cli/home" OPENCLAW_STATE_DIR="$WORK/oc-cli/state" NO_COLOR=1 \
    timeout 60 "$NODE" "$OPENCLAW_MJS" "$@"
}
mkdir -p "$WORK/oc-cli/home" "$WORK/oc-cli/state"

frame_checks() { # frame_checks FILE MODE PREFIX
  local line
  while IFS= read -r line; do
    case $line in
      PASS\ *) pass "$3${line#PASS }" ;;
      FAIL\ *) line=${line#FAIL }; fail "$3${line%%$'\t'*}" "${line#*$'\t'}" ;;
    esac
  done < <("$NODE" "$WORK/frames.cjs" "$1" "$2")
}

# =============================================================================
# Direction 1: OpenClaw CLI -> pairdeck serve
# =============================================================================
direction1() {
  local PD_PORT=${PORTS[0]} PX_PORT=${PORTS[1]}
  local U=(--url "ws://127.0.0.1:$PX_PORT" --token "$TOKEN")
  log "direction 1: OpenClaw $PEER_VERSION CLI -> pairdeck serve (127.0.0.1:$PD_PORT, via recording proxy :$PX_PORT)"
  mkdir -p "$WORK/pd-gw"
  start pd-serve env -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PORT \
    "$PAIRDECK" serve --state-dir "$WORK/pd-gw" --listen "127.0.0.1:$PD_PORT" --token "$TOKEN"
  if ! wait_port "$PD_PORT" 30; then
    fail "d1: pairdeck serve listens on 127.0.0.1:$PD_PORT" "$(tail -20 "$WORK/pd-serve.log")"
    return
  fi
  pass "d1: pairdeck serve listens on 127.0.0.1:$PD_PORT"
  start proxy1 "$NODE" "$WORK/wsproxy.cjs" "$PX_PORT" "ws://127.0.0.1:$PD_PORT" "$WORK/d1-frames.jsonl"
  wait_port "$PX_PORT" 15 || { fail "d1: recording proxy starts" "$(cat "$WORK/proxy1.log")"; return; }

  # gateway call node.pair.request: a new request, then a refresh.
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-n1","displayName":"Interop One","platform":"linux"}' "${U[@]}"
  check "d1: gateway call node.pair.request creates a request (exit $R_RC)" "$R" \
    '.status=="pending" and .created==true and (.request.requestId|type=="string" and length>0) and .request.nodeId=="ic-n1" and .request.displayName=="Interop One" and .request.platform=="linux" and (.request.ts|type=="number") and (.request.silent==false) and ([..|objects|has("token")]|any|not)' "$R_ERR"
  local RID1; RID1=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-n1","displayName":"Interop One b"}' "${U[@]}"
  check "d1: repeated node.pair.request keeps the requestId (created=false, name replaced, platform kept)" "$R" \
    ".status==\"pending\" and .created==false and .request.requestId==\"$RID1\" and .request.displayName==\"Interop One b\" and .request.platform==\"linux\"" "$R_ERR"
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-n2","displayName":"Interop Two"}' "${U[@]}"
  local RID2; RID2=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-n3","displayName":"Interop Three","platform":"linux","caps":["system"],"commands":["system.run","system.notify"],"silent":true}' "${U[@]}"
  local RID3; RID3=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  check "d1: node.pair.request with caps/commands/silent" "$R" \
    '.created==true and .request.nodeId=="ic-n3" and .request.caps==["system"] and .request.commands==["system.run","system.notify"] and .request.silent==true' "$R_ERR"
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-n9","bogus":1}' "${U[@]}"
  if [ "$R_RC" != 0 ] && printf '%s' "$R_ERR$R" | grep -q "bogus"; then pass "d1: unknown param is refused, naming it"
  else fail "d1: unknown param is refused, naming it" "exit $R_RC; stdout: $R; stderr: $R_ERR"; fi

  # nodes pending
  runq R oc nodes pending --json "${U[@]}"
  check "d1: nodes pending --json lists 3 requests newest first (exit $R_RC)" "$R" \
    "type==\"array\" and length==3 and map(.nodeId)==[\"ic-n3\",\"ic-n2\",\"ic-n1\"] and map(.requestId)==[\"$RID3\",\"$RID2\",\"$RID1\"]" "$R_ERR"
  check "d1: nodes pending --json: requiredApproveScopes per commands" "$R" \
    '(map(select(.nodeId=="ic-n3"))[0].requiredApproveScopes==["operator.pairing","operator.admin"]) and (map(select(.nodeId=="ic-n1"))[0].requiredApproveScopes==["operator.pairing"])'
  check "d1: nodes pending --json: ts on every request, expiresAtMs = ts + 5 min where given" "$R" \
    'all(.[]; (.ts|type=="number") and ((.expiresAtMs // (.ts+300000)) == .ts+300000))'
  runq R oc nodes pending "${U[@]}"
  if [ "$R_RC" = 0 ] && printf '%s' "$R" | grep -q "$RID1" && printf '%s' "$R" | grep -q "Interop One b"; then pass "d1: nodes pending (table) shows the requests"
  else fail "d1: nodes pending (table) shows the requests" "exit $R_RC; $R $R_ERR"; fi

  # approve / reject
  runq R oc nodes approve "$RID1" --json "${U[@]}"
  check "d1: nodes approve returns the node with a fresh 43-char token (exit $R_RC)" "$R" \
    ".requestId==\"$RID1\" and .node.nodeId==\"ic-n1\" and .node.displayName==\"Interop One b\" and (.node.token|test(\"^[A-Za-z0-9_-]{43}\$\")) and (.node.approvedAtMs|type==\"number\")" "$R_ERR"
  local TOK1; TOK1=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
  runq R oc nodes approve "$RID3" --json "${U[@]}"
  check "d1: nodes approve of an exec-class request (the CLI holds operator.admin)" "$R" ".requestId==\"$RID3\" and .node.nodeId==\"ic-n3\"" "$R_ERR"
  local TOK3; TOK3=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
  runq R oc nodes reject "$RID2" --json "${U[@]}"
  check "d1: nodes reject (exit $R_RC)" "$R" ".requestId==\"$RID2\" and .nodeId==\"ic-n2\"" "$R_ERR"
  runq R oc nodes reject "$RID2" --json "${U[@]}"
  if [ "$R_RC" != 0 ] && printf '%s' "$R_ERR$R" | grep -qiE "unknown requestId|already|resolved|UNKNOWN_REQUEST"; then pass "d1: rejecting it again fails (stale id)"
  else fail "d1: rejecting it again fails (stale id)" "exit $R_RC; stdout: $R; stderr: $R_ERR"; fi
  runq R oc gateway call node.pair.verify --json --params "{\"nodeId\":\"ic-n1\",\"token\":\"$TOK1\"}" "${U[@]}"
  check "d1: gateway call node.pair.verify accepts the approved token, without echoing it" "$R" \
    ".ok==true and .node.nodeId==\"ic-n1\" and (.node|has(\"token\")|not)" "$R_ERR"

  # A live node (pairdeck's own node side), approved with the OpenClaw CLI, so
  # that status has a connected node and hello-ok a presence entry.
  local ND=$WORK/pd-node
  mkdir -p "$ND"
  start node-pair env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_STATE_DIR \
    "$PAIRDECK" node pair --state-dir "$ND" --node-dir "$ND" --url "ws://127.0.0.1:$PD_PORT" --name "Live Node" --json --wait 60s
  local NODE_PAIR_PID=$! LIVE_RID="" LIVE_ID="" deadline=$((SECONDS + 15))
  while [ $SECONDS -lt $deadline ] && [ -z "$LIVE_RID" ]; do
    sleep 0.5
    LIVE_RID=$(jq -r 'select(.event=="pending") | .requestId' "$WORK/node-pair.log" 2>/dev/null | head -1 || true)
  done
  LIVE_ID=$(jq -r 'select(.event=="pending") | .nodeId' "$WORK/node-pair.log" 2>/dev/null | head -1 || true)
  runq R oc nodes approve "${LIVE_RID:-none}" --json "${U[@]}"
  check "d1: nodes approve of a waiting node's own request" "$R" ".node.nodeId==\"$LIVE_ID\" and .node.displayName==\"Live Node\"" "$R_ERR $(cat "$WORK/node-pair.log")"
  local prc=0; wait "$NODE_PAIR_PID" || prc=$?
  if [ "$prc" = 0 ]; then
    start node-connect env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_STATE_DIR \
      "$PAIRDECK" node connect --state-dir "$ND" --node-dir "$ND" --url "ws://127.0.0.1:$PD_PORT"
    sleep 1.5
  else
    fail "d1: pairdeck node pair ends approved" "exit $prc: $(cat "$WORK/node-pair.log")"
  fi

  # status / rename / list
  runq R oc nodes status --json "${U[@]}"
  check "d1: nodes status --json shows the live node connected" "$R" \
    ".nodes[0].nodeId==\"$LIVE_ID\" and .nodes[0].connected==true and .nodes[0].paired==true and (.nodes[0].connectedAtMs|type==\"number\")" "$R_ERR"
  check "d1: nodes status --json shows the paired nodes (exit $R_RC)" "$R" \
    '(.ts|type=="number") and (.nodes|type=="array") and (.nodes|map(select(.nodeId=="ic-n1"))[0] | .paired==true and .connected==false and .displayName=="Interop One b" and (.caps|type=="array") and (.commands|type=="array"))' "$R_ERR"
  runq R oc nodes status "${U[@]}"
  if [ "$R_RC" = 0 ] && printf '%s' "$R" | grep -q "Known:" && printf '%s' "$R" | grep -q "ic-n1"; then pass "d1: nodes status (table)"
  else fail "d1: nodes status (table)" "exit $R_RC; $R $R_ERR"; fi
  runq R oc nodes rename --node ic-n1 --name "Living Room" --json "${U[@]}"
  check "d1: nodes rename --node <id> (node.list lookup, then node.rename) (exit $R_RC)" "$R" \
    '.nodeId=="ic-n1" and .displayName=="Living Room"' "$R_ERR"
  runq R oc nodes rename --node "Living Room" --name "Kitchen" "${U[@]}"
  if [ "$R_RC" = 0 ] && printf '%s' "$R" | grep -q "ic-n1 -> Kitchen"; then pass "d1: nodes rename --node <name>"
  else fail "d1: nodes rename --node <name>" "exit $R_RC; $R $R_ERR"; fi
  runq R oc nodes status --json "${U[@]}"
  check "d1: nodes status shows the new name" "$R" '.nodes|map(select(.nodeId=="ic-n1"))[0].displayName=="Kitchen"' "$R_ERR"
  runq R oc nodes list --json "${U[@]}"
  local LJ; LJ=$(jsonpart "$R")
  check "d1: nodes list --json: pending and paired, no tokens (exit $R_RC)" "$LJ" \
    '(.pending|type=="array" and length==0) and (.paired|map(.nodeId)|index("ic-n1") and index("ic-n3") and length==3) and ([.paired[]|has("token") or has("tokenSha256")]|any|not)' "$R_ERR"

  # wire-level checks on what pairdeck sent the OpenClaw CLI
  frame_checks "$WORK/d1-frames.jsonl" server "d1: "
  "$NODE" "$WORK/frames.cjs" "$WORK/d1-frames.jsonl" summary >"$WORK/d1-summary.jsonl" || true
  if [ -n "$TOK1$TOK3" ] && grep -qF -e "${TOK1:-x}" -e "${TOK3:-x}" "$WORK/pd-serve.log"; then fail "d1: node tokens never appear in pairdeck serve's log"
  else pass "d1: node tokens never appear in pairdeck serve's log"; fi
  if grep -qF "$TOKEN" "$WORK/pd-serve.log"; then fail "d1: the operator token never appears in pairdeck serve's log"
  else pass "d1: the operator token never appears in pairdeck serve's log"; fi
}

# =============================================================================
# Direction 2: pairdeck -> OpenClaw gateway
# =============================================================================
direction2() {
  local OC_PORT=${PORTS[2]} PX_PORT=${PORTS[3]}
  local GW=$WORK/oc-gw
  log "direction 2: pairdeck -> OpenClaw $PEER_VERSION gateway (127.0.0.1:$OC_PORT, via recording proxy :$PX_PORT)"
  mkdir -p "$GW/state" "$GW/home"
  local ocg=(env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN HOME="$GW/home" OPENCLAW_STATE_DIR="$GW/state")
  local kv
  for kv in "gateway.mode local" "gateway.auth.token $TOKEN" "gateway.port $OC_PORT" \
            "update.checkOnStart false" "discovery.mdns.mode off" "logging.file $GW/gateway-file.log"; do
    # shellcheck disable=SC2086
    "${ocg[@]}" timeout 60 "$NODE" "$OPENCLAW_MJS" config set $kv >>"$WORK/oc-config.log" 2>&1 ||
      { fail "d2: openclaw config set $kv" "$(tail -5 "$WORK/oc-config.log")"; return; }
  done
  start oc-gateway "${ocg[@]}" OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 OPENCLAW_NO_RESPAWN=1 NO_COLOR=1 \
    "$NODE" "$OPENCLAW_MJS" gateway run --bind loopback --port "$OC_PORT" --auth token --token "$TOKEN"
  if ! wait_port "$OC_PORT" 60; then
    fail "d2: OpenClaw gateway listens on 127.0.0.1:$OC_PORT" "$(tail -20 "$WORK/oc-gateway.log")"
    return
  fi
  pass "d2: OpenClaw gateway listens on 127.0.0.1:$OC_PORT"
  start proxy2 "$NODE" "$WORK/wsproxy.cjs" "$PX_PORT" "ws://127.0.0.1:$OC_PORT" "$WORK/d2-frames.jsonl"
  wait_port "$PX_PORT" 15 || { fail "d2: recording proxy starts" "$(cat "$WORK/proxy2.log")"; return; }
  local URL=ws://127.0.0.1:$PX_PORT
  local OCU=(--url "ws://127.0.0.1:$OC_PORT" --token "$TOKEN")

  # Seed requests with the peer's own CLI.
  local n
  for n in '{"nodeId":"ic-a","displayName":"Alpha","platform":"linux"}' '{"nodeId":"ic-b","displayName":"Bravo"}' \
           '{"nodeId":"ic-c","displayName":"Charlie","platform":"linux","caps":["system"],"commands":["system.run"]}'; do
    runq R oc gateway call node.pair.request --json --params "$n" "${OCU[@]}"
    [ "$R_RC" = 0 ] || { fail "d2: seed a request on the peer: $n" "$R $R_ERR"; return; }
    sleep 0.05 # distinct ts, so "newest first" is well defined
  done

  # pairdeck's CLI; its state dir starts with the identity the OpenClaw CLI
  # created, so that file format is shared too.
  local PDS=$WORK/pd-cli
  mkdir -p "$PDS/identity" && cp "$WORK/oc-cli/state/identity/device.json" "$PDS/identity/device.json"
  local OC_DEV; OC_DEV=$(jq -r .deviceId "$PDS/identity/device.json")
  pd() { env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR NO_COLOR=1 \
           timeout 60 "$PAIRDECK" nodes "$@" --state-dir "$PDS" --url "$URL" --token "$TOKEN"; }

  runq R pd pending --json
  check "d2: pairdeck nodes pending --json against the peer (exit $R_RC)" "$R" \
    'type=="array" and length==3 and map(.nodeId)==["ic-c","ic-b","ic-a"]' "$R_ERR"
  check "d2: expiresAtMs = ts + 5 min when the peer sends none" "$R" \
    'all(.[]; .expiresAtMs == .ts + 300000)'
  check "d2: requiredApproveScopes passed through" "$R" \
    'map(select(.nodeId=="ic-c"))[0].requiredApproveScopes==["operator.pairing","operator.admin"]'
  local RA RB RC_
  RA=$(printf '%s' "$R" | jq -r 'map(select(.nodeId=="ic-a"))[0].requestId // empty' 2>/dev/null || true)
  RB=$(printf '%s' "$R" | jq -r 'map(select(.nodeId=="ic-b"))[0].requestId // empty' 2>/dev/null || true)
  RC_=$(printf '%s' "$R" | jq -r 'map(select(.nodeId=="ic-c"))[0].requestId // empty' 2>/dev/null || true)
  if grep -q "\"id\":\"$OC_DEV\"" "$WORK/d2-frames.jsonl" 2>/dev/null; then pass "d2: pairdeck uses an identity file written by the OpenClaw CLI"
  else fail "d2: pairdeck uses an identity file written by the OpenClaw CLI" "device id $OC_DEV not in pairdeck's connect"; fi
  runq R pd pending --count
  check "d2: pairdeck nodes pending --count" "$R" '. == 3' "$R_ERR"
  runq R pd pending
  if [ "$R_RC" = 0 ] && printf '%s' "$R" | grep -q "Alpha" && printf '%s' "$R" | grep -qE '4:[0-5][0-9]'; then pass "d2: pairdeck nodes pending (table) with a ts+5min countdown"
  else fail "d2: pairdeck nodes pending (table) with a ts+5min countdown" "exit $R_RC; $R $R_ERR"; fi

  # --watch: the snapshot, then the peer's events as NDJSON.
  start watch env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR \
    "$PAIRDECK" nodes pending --watch --json --state-dir "$PDS" --url "$URL" --token "$TOKEN"
  local WPG=$! deadline=$((SECONDS + 10)) snaps=0
  while [ $SECONDS -lt $deadline ] && [ "${snaps:-0}" -lt 3 ]; do
    sleep 0.3
    snaps=$(grep -c '"snapshot":true' "$WORK/watch.log" 2>/dev/null) || true
  done
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-w","displayName":"Watcher"}' "${OCU[@]}"
  local RW; RW=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  runq R oc nodes reject "${RW:-none}" --json "${OCU[@]}"
  deadline=$((SECONDS + 10))
  while [ $SECONDS -lt $deadline ] && ! grep -q '"node.pair.resolved"' "$WORK/watch.log" 2>/dev/null; do sleep 0.3; done
  kill -INT -- "-$WPG" 2>/dev/null || true
  sleep 0.5
  local WL; WL=$(grep '^{' "$WORK/watch.log" | jq -sc . 2>/dev/null || echo null)
  check "d2: pairdeck nodes pending --watch: a snapshot line per pending request" "$WL" \
    '[.[]|select(.snapshot==true and .event=="node.pair.requested")|.payload.nodeId]|sort==["ic-a","ic-b","ic-c"]' "$(cat "$WORK/watch.log")"
  check "d2: pairdeck nodes pending --watch: the peer's requested and resolved events" "$WL" \
    "([.[]|select(.event==\"node.pair.requested\" and (.snapshot|not) and .payload.requestId==\"$RW\")]|length==1) and ([.[]|select(.event==\"node.pair.resolved\" and .payload.requestId==\"$RW\" and .payload.decision==\"rejected\")]|length==1)"
  check "d2: pairdeck nodes pending --watch: requested payloads carry expiresAtMs = ts + 5 min" "$WL" \
    'all(.[]|select(.event=="node.pair.requested")|.payload; .expiresAtMs == .ts + 300000)'

  runq R pd approve "$RA" --json
  check "d2: pairdeck nodes approve (exit $R_RC)" "$R" \
    ".requestId==\"$RA\" and .node.nodeId==\"ic-a\" and (.node.token|type==\"string\" and length>=32)" "$R_ERR"
  local TA; TA=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
  runq R oc gateway call node.pair.verify --json --params "{\"nodeId\":\"ic-a\",\"token\":\"${TA:-none}\"}" "${OCU[@]}"
  check "d2: the peer verifies the token pairdeck's approve returned" "$R" '.ok==true' "$R_ERR"
  runq R pd approve "$RC_" --json
  check "d2: pairdeck nodes approve of an exec-class request (needs operator.admin at the peer)" "$R" \
    ".requestId==\"$RC_\" and .node.nodeId==\"ic-c\"" "$R_ERR"
  local TC; TC=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
  runq R pd reject "$RB" --json
  check "d2: pairdeck nodes reject (exit $R_RC)" "$R" ".requestId==\"$RB\" and .nodeId==\"ic-b\"" "$R_ERR"
  runq R pd reject "$RB" --json
  if [ "$R_RC" = 1 ] && [ -z "$R" ] && printf '%s' "$R_ERR" | grep -qi "unknown requestId"; then pass "d2: rejecting it again: exit 1, the peer's message on stderr"
  else fail "d2: rejecting it again: exit 1, the peer's message on stderr" "exit $R_RC; stdout: $R; stderr: $R_ERR"; fi
  runq R oc nodes pending --json "${OCU[@]}"
  check "d2: the peer's own view: nothing pending after approve/approve/reject" "$R" 'length==0' "$R_ERR"

  runq R pd rename --node ic-a --name "Living Room" --json
  check "d2: pairdeck nodes rename --node <id> (exit $R_RC)" "$R" '.nodeId=="ic-a" and .displayName=="Living Room"' "$R_ERR"
  runq R pd rename --node "Living Room" --name "Kitchen" --json
  check "d2: pairdeck nodes rename --node <name>" "$R" '.nodeId=="ic-a" and .displayName=="Kitchen"' "$R_ERR"
  runq R oc nodes status --json "${OCU[@]}"
  check "d2: the peer's own view shows the new name" "$R" '.nodes|map(select(.nodeId=="ic-a"))[0].displayName=="Kitchen"' "$R_ERR"
  runq R pd status --json
  check "d2: pairdeck nodes status --json (exit $R_RC)" "$R" \
    '(.ts|type=="number") and (.nodes|map(select(.nodeId=="ic-a"))[0] | .paired==true and .connected==false and .displayName=="Kitchen")' "$R_ERR"
  runq R pd list --json
  check "d2: pairdeck nodes list --json drops the tokens the peer sends (exit $R_RC)" "$R" \
    '(.pending|length==0) and (.paired|map(.nodeId)|sort==["ic-a","ic-c"]) and ([.paired[]|has("token")]|any|not)' "$R_ERR"
  runq R pd list
  runq S pd status
  runq P pd pending
  if [ -n "$TA$TC" ] && printf '%s\n' "$R" "$S" "$P" | grep -qF -e "${TA:-x}" -e "${TC:-x}"; then
    fail "d2: no node token in pairdeck's list/status/pending output"
  else pass "d2: no node token in pairdeck's list/status/pending output"; fi

  # Pointed at the peer's own state dir, with no --url and no token, pairdeck
  # finds the peer's gateway through openclaw.json (port and token) and acts
  # through it; serve refuses to become a second owner; nothing of pairdeck's
  # lands in the dir.
  local own=(env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PORT
             HOME="$GW/home" OPENCLAW_STATE_DIR="$GW/state" NO_COLOR=1 timeout 60 "$PAIRDECK")
  runq R "${own[@]}" nodes list --json -v
  if [ "$R_RC" = 0 ] && printf '%s' "$R_ERR" | grep -qF "from the OpenClaw gateway at ws://127.0.0.1:$OC_PORT (it owns $GW/state"; then
    pass "d2: pairdeck on the peer's state dir attaches to the peer's gateway by itself"
  else fail "d2: pairdeck on the peer's state dir attaches to the peer's gateway by itself" "exit $R_RC; $R_ERR"; fi
  check "d2: ... and lists what the peer holds" "$R" '.paired|map(.nodeId)|sort==["ic-a","ic-c"]' "$R_ERR"
  runq R "${own[@]}" serve
  if [ "$R_RC" = 1 ] && printf '%s' "$R_ERR" | grep -qF "owns $GW/state"; then
    pass "d2: pairdeck serve on the peer's state dir refuses, naming its gateway"
  else fail "d2: pairdeck serve on the peer's state dir refuses, naming its gateway" "exit $R_RC; $R_ERR"; fi
  local stray; stray=$(cd "$GW/state" && ls -d nodes/.lock nodes/audit.jsonl nodes/journal.* pairdeck 2>/dev/null || true)
  if [ -z "$stray" ]; then pass "d2: nothing of pairdeck's written into the peer's state dir"
  else fail "d2: nothing of pairdeck's written into the peer's state dir" "$stray"; fi

  # The console, in tmux: requests that the peer will let expire without an
  # event (written into the peer's pending.json 270 s old, the way the peer
  # stores them) and a fresh one.
  if [ "$CONSOLE" = 1 ]; then console_checks; fi

  frame_checks "$WORK/d2-frames.jsonl" client "d2: "
  "$NODE" "$WORK/frames.cjs" "$WORK/d2-frames.jsonl" summary >"$WORK/d2-summary.jsonl" || true
  # Tokens the peer put in list results must not reach pairdeck's logs.
  local logs; logs=$(find "$PDS" "$WORK/pd-console" -name '*.log' 2>/dev/null || true)
  if [ -n "$logs" ] && [ -n "$TA$TC" ] && grep -qF -e "${TA:-x}" -e "${TC:-x}" $logs; then
    fail "d2: no node token in pairdeck's log files" "$(grep -lF -e "${TA:-x}" -e "${TC:-x}" $logs)"
  else pass "d2: no node token in pairdeck's log files"; fi
}

console_checks() {
  local GW=$WORK/oc-gw PEND=$WORK/oc-gw/state/nodes/pending.json
  local OCU=(--url "ws://127.0.0.1:${PORTS[2]}" --token "$TOKEN")
  local EXP_ID; EXP_ID=$(cat /proc/sys/kernel/random/uuid)
  # 30 s left: enough for the console to start and show them on a busy machine.
  local TS=$(( $(now_ms) - 270000 ))
  local REF_ID; REF_ID=$(cat /proc/sys/kernel/random/uuid)
  jq --arg id "$EXP_ID" --arg ref "$REF_ID" --argjson ts "$TS" \
    '.[$id] = {requestId:$id, nodeId:"ic-old", displayName:"Old Timer", platform:"linux", silent:false, ts:$ts}
     | .[$ref] = {requestId:$ref, nodeId:"ic-ref", displayName:"Refresher", platform:"linux", silent:false, ts:$ts}' \
    "$PEND" >"$PEND.tmp" && mv "$PEND.tmp" "$PEND"
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-new","displayName":"Newcomer","platform":"linux"}' "${OCU[@]}"
  local NEW_ID; NEW_ID=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  local EXPIRES_AT=$(( TS + 300000 ))

  mkdir -p "$WORK/pd-console"
  local cmd
  printf -v cmd 'env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR TERM=xterm-256color %q console --url %q --token %q --state-dir %q 2>%q; sleep 600' \
    "$PAIRDECK" "ws://127.0.0.1:${PORTS[3]}" "$TOKEN" "$WORK/pd-console" "$WORK/console.stderr"
  tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s interop -x 140 -y 36 "$cmd"
  local pane="" deadline=$((SECONDS + 20))
  while [ $SECONDS -lt $deadline ]; do
    pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t interop 2>/dev/null || true)
    if printf '%s' "$pane" | grep -q "Newcomer" && printf '%s' "$pane" | grep -q "Old Timer"; then break; fi
    sleep 0.5
  done
  printf '%s\n' "$pane" >"$WORK/console-1.txt"
  if printf '%s' "$pane" | grep -q "Newcomer" && printf '%s' "$pane" | grep -q "Old Timer"; then pass "console: lists the peer's pending requests"
  else fail "console: lists the peer's pending requests" "$pane$(tail -5 "$WORK/console.stderr" 2>/dev/null)"; fi
  local oldline newline
  oldline=$(printf '%s\n' "$pane" | grep "Old Timer" | head -1 || true)
  newline=$(printf '%s\n' "$pane" | grep "Newcomer" | head -1 || true)
  if printf '%s' "$oldline" | grep -qE '0:([0-2][0-9]|30)'; then pass "console: countdown from ts + 5 min (old request: under 0:30)"
  else fail "console: countdown from ts + 5 min (old request: under 0:30)" "$oldline"; fi
  if printf '%s' "$newline" | grep -qE '(4:[0-5][0-9]|5:00)'; then pass "console: countdown from ts + 5 min (fresh request: about 5:00)"
  else fail "console: countdown from ts + 5 min (fresh request: about 5:00)" "$newline"; fi

  # The node behind "Refresher" asks again: the peer keeps the requestId,
  # restarts its 5 minutes (ts) and sends no event, so only a re-list can
  # tell the console.
  runq R oc gateway call node.pair.request --json --params '{"nodeId":"ic-ref","displayName":"Refresher"}' "${OCU[@]}"
  local REFRESHED=0
  printf '%s' "$R" | jq -e ".created==false and .request.requestId==\"$REF_ID\"" >/dev/null 2>&1 && REFRESHED=1
  check "console: (setup) the peer refreshes a request silently, same requestId, created=false" "$R" \
    ".created==false and .request.requestId==\"$REF_ID\"" "created=true means the planted request had expired before the console showed it: machine too busy? $R_ERR"

  # Wait past the expiry (+ the console's grace) and look again.
  local wait_s=$(( (EXPIRES_AT - $(now_ms)) / 1000 + 6 ))
  [ "$wait_s" -gt 0 ] && sleep "$wait_s"
  pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t interop 2>/dev/null || true)
  printf '%s\n' "$pane" >"$WORK/console-2.txt"
  if ! printf '%s' "$pane" | grep -q "Old Timer" && printf '%s' "$pane" | grep -q "Newcomer"; then
    pass "console: drops the expired row itself (the peer sends no expiry event)"
  else fail "console: drops the expired row itself (the peer sends no expiry event)" "$pane"; fi
  local refline; refline=$(printf '%s\n' "$pane" | grep "Refresher" | head -1 || true)
  if [ "$REFRESHED" = 1 ] && printf '%s' "$refline" | grep -qE '4:[0-5][0-9]'; then
    pass "console: a request the peer refreshed silently is back after the re-list, with its new countdown"
  else fail "console: a request the peer refreshed silently is back after the re-list, with its new countdown" "row: '${refline}'
$pane"; fi
  # It must have asked the peer again after the expiry.
  local relists
  relists=$(jq -s --argjson t "$EXPIRES_AT" --arg dev "$(jq -r .deviceId "$WORK/pd-console/identity/device.json" 2>/dev/null)" '
    (map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$dev) | .conn)) as $cs
    | map(select(.dir=="c2s" and .frame.method=="node.pair.list" and (.conn as $c | $cs | index($c)) and .t > $t)) | length' \
    "$WORK/d2-frames.jsonl" 2>/dev/null || echo 0)
  if [ "${relists:-0}" -ge 1 ]; then pass "console: re-lists after expiring a row ($relists node.pair.list after the expiry)"
  else fail "console: re-lists after expiring a row" "no node.pair.list from the console's connection after $EXPIRES_AT"; fi

  # The Paired view: names, never the tokens the peer's list carries.
  tmux -L "$TMUX_SOCK" send-keys -t interop Tab
  sleep 1.5
  pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t interop 2>/dev/null || true)
  printf '%s\n' "$pane" >"$WORK/console-3.txt"
  if printf '%s' "$pane" | grep -q "Kitchen"; then pass "console: Paired view shows the peer's paired nodes"
  else fail "console: Paired view shows the peer's paired nodes" "$pane"; fi
  local toks; toks=$(jq -r '.[].token // empty' "$WORK/oc-gw/state/nodes/paired.json" 2>/dev/null || true)
  local leaked=0 t f
  for t in $toks; do
    for f in "$WORK"/console-*.txt "$WORK/pd-console"/pairdeck/*.log "$WORK/console.stderr"; do
      [ -f "$f" ] && grep -qF "$t" "$f" && leaked=1
    done
  done
  if [ -z "$toks" ]; then fail "console: no node token on screen or in its log" "no tokens found in the peer's paired.json to look for"
  elif [ "$leaked" = 0 ]; then pass "console: no node token on screen or in its log"
  else fail "console: no node token on screen or in its log" "a token from the peer's paired.json appeared in the console's screen or log"; fi
  tmux -L "$TMUX_SOCK" send-keys -t interop q
  sleep 0.5
  : "$NEW_ID"
}

case $DIRECTION in
  1) direction1 ;;
  2) direction2 ;;
  all) direction1; direction2 ;;
esac

echo
if [ "$FAILED" -gt 0 ]; then
  echo "failed checks:"; printf '  - %s\n' "${FAILS[@]}"
  echo "logs and recorded frames: $WORK (commands.log, *-frames.jsonl, *-summary.jsonl)"
fi
echo "interop: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
