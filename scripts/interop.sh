#!/usr/bin/env bash
# Interoperability check against real OpenClaw releases.
#
#   scripts/interop.sh [options] [VERSION...]      (default: 2026.4.12 2026.7.35 2026.9.6)
#
#   client direction (pairdeck -> OpenClaw gateway), for every version:
#       `pairdeck nodes pending/approve/reject/status/rename/list/remove/verify`
#       against the release's gateway, what it does not offer explained, its
#       refusals; `pairdeck node pair` / `node connect` pairing with it; the
#       console in tmux (attach, see the queue, approve with one key; on
#       2026.8+ a real `openclaw node run` node host approved that way)
#   serve direction (OpenClaw -> `pairdeck serve`), for every version: the
#       release's CLI (protocol 3 on 2026.4, 4 later): nodes pending/approve/
#       reject/status/rename/list/describe/remove, devices list (one line),
#       gateway call node.pair.request, the frames; real `openclaw node run`
#       node hosts: request at connect, console row, approved (console key
#       or CLI), back paired with their token, a rejection (2026.7.35); on
#       2026.8+ a setup link from `pairdeck codes create` (once served)
#
# Opt-in, not part of CI: a version not installed yet is installed with npm
# into ${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}/peer-VERSION
# (Node 24 from the `node` npm package first, then openclaw with that Node on
# PATH; a few minutes and over 1 GB each); later runs reuse it. Everything runs
# on 127.0.0.1 with temporary state dirs, free ports and bounded timeouts;
# every process started here is stopped on exit.
#
# Options:
#   --direction client|serve|all  one direction only (default: all; 1 = serve, 2 = client)
#   --no-console  skip the console (tmux) checks
#   --keep        keep the work dir (logs, recorded frames) after the run
# Environment: PAIRDECK_INTEROP_CACHE (peer install dir), PAIRDECK_BIN (use this
# pairdeck binary instead of building one).
#
# Every check prints PASS or FAIL with what differed, prefixed by the version;
# the last lines count them per version and in all; the exit status is
# non-zero if anything failed. docs/interop.md explains the checks and what
# each release does.
set -euo pipefail

DEFAULT_VERSIONS=(2026.4.12 2026.7.35 2026.9.6)
NODE_MAJOR=24
REPO=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PAIRDECK_INTEROP_CACHE:-$HOME/.cache/pairdeck-interop}
DIRECTION=all
CONSOLE=1
KEEP=0
VERSIONS=()

while [ $# -gt 0 ]; do
  case $1 in
    --direction) DIRECTION=${2:?}; shift 2 ;;
    --direction=*) DIRECTION=${1#*=}; shift ;;
    --no-console) CONSOLE=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "interop: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "interop: $1 is not an OpenClaw version such as 2026.9.6" >&2; exit 2; }
      VERSIONS+=("$1"); shift ;;
  esac
done
case $DIRECTION in
  1|serve) DIRECTION=serve ;;
  2|client) DIRECTION=client ;;
  all) ;;
  *) echo "interop: --direction must be client, serve or all" >&2; exit 2 ;;
esac
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=("${DEFAULT_VERSIONS[@]}")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pairdeck-interop.XXXXXX")
exec 3>&1 # the script's own stdout, for notes from inside command substitutions
PGROUPS=()
TMUX_SOCK=pairdeck-interop-$$
PASSED=0
FAILED=0
FAILS=()
declare -A VPASS VFAIL
V="" # the version being checked: every PASS/FAIL line and count carries it

cleanup() {
  local rc=$?
  set +e
  tmux -L "$TMUX_SOCK" kill-server >/dev/null 2>&1
  stop_all
  if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then
    echo "interop: work dir kept: $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
# stop_all stops every process group started so far.
stop_all() {
  local pg
  for pg in "${PGROUPS[@]}"; do kill -TERM -- "-$pg" 2>/dev/null || true; done
  for pg in "${PGROUPS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do kill -0 -- "-$pg" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pg" 2>/dev/null || true
    wait "$pg" 2>/dev/null || true
  done
  PGROUPS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n== %s\n' "$*"; }
pass() {
  PASSED=$((PASSED + 1)); VPASS[$V]=$(( ${VPASS[$V]:-0} + 1 ))
  printf 'PASS [%s] %s\n' "$V" "$1"
}
fail() {
  FAILED=$((FAILED + 1)); VFAIL[$V]=$(( ${VFAIL[$V]:-0} + 1 )); FAILS+=("[$V] $1")
  printf 'FAIL [%s] %s\n' "$V" "$1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | head -c 4000 | sed 's/^/     | /'; echo; fi
}
# expect NAME CONDITION-STATUS [DETAIL]: PASS when the status is 0.
expect() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "${3:-}"; fi; }

# check NAME JSON JQ-FILTER [HINT]: PASS when the filter is true for JSON.
check() {
  local name=$1 json=$2 filter=$3 hint=${4:-}
  # (jq -e succeeds on empty input: nothing to check is a failure here.)
  if [ -n "${json//[[:space:]]/}" ] && jq -e "$filter" >/dev/null 2>&1 <<<"$json"; then
    pass "$name"
  else
    fail "$name" "wanted: $filter${hint:+ ($hint)}
got: $(printf '%s' "$json" | head -c 3000)"
  fi
}

# has TEXT WORD...: every WORD occurs in TEXT (fixed strings).
has() { local t=$1; shift; local w; for w in "$@"; do [[ $t == *"$w"* ]] || return 1; done; }
# lacks TEXT WORD...: no WORD occurs in TEXT.
lacks() { local t=$1; shift; local w; for w in "$@"; do [[ $t == *"$w"* ]] && return 1; done; return 0; }
# Text is matched with here-strings, never `printf | grep -q`: under
# pipefail, grep -q leaving early can fail the pipeline with SIGPIPE.

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
# (timeout makes one), bounded to an hour, output to $VW/NAME.log.
start() {
  local name=$1; shift
  timeout --kill-after=5 3600 "$@" >"${VW:-$WORK}/$name.log" 2>&1 &
  PGROUPS+=("$!")
  LAST_PG=$!
}
# stop PGID: stop one process group started with start.
stop() {
  kill -TERM -- "-$1" 2>/dev/null || true
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do kill -0 -- "-$1" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

wait_port() { # wait_port PORT SECONDS
  local port=$1 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  return 1
}

# wait_for SECONDS CMD...: run CMD until it succeeds, for at most SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $deadline ]; do
    "$@" && return 0
    sleep 0.5
  done
  return 1
}

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- prerequisites
for tool in jq npm go timeout; do
  command -v "$tool" >/dev/null || { echo "interop: needs $tool on PATH" >&2; exit 1; }
done
if [ "$CONSOLE" = 1 ] && ! command -v tmux >/dev/null; then
  echo "interop: tmux not found: console checks skipped (apt-get install tmux)" >&2
  CONSOLE=0
fi

# ---------------------------------------------------------------- peers
# use_peer VERSION: NODE, OPENCLAW_MJS and WS_MODULE of that release.
use_peer() {
  PEER=$CACHE/peer-$1
  NODE=$PEER/node_modules/node/bin/node
  OPENCLAW_MJS=$PEER/node_modules/openclaw/openclaw.mjs
  export WS_MODULE=$PEER/node_modules/ws
}

# install_peer VERSION: installs node@24 and openclaw@VERSION into
# $CACHE/peer-VERSION unless they are there. Node goes first and is put on
# PATH for the openclaw install: 2026.9's preinstall script checks for
# Node >= 24.16, and the machine's Node may be older.
install_peer() {
  local v=$1
  use_peer "$v"
  if [ -x "$NODE" ] && [ -f "$OPENCLAW_MJS" ] &&
     [ "$(jq -r .version "$PEER/node_modules/openclaw/package.json" 2>/dev/null)" = "$v" ]; then
    return 0
  fi
  log "installing node@$NODE_MAJOR and openclaw@$v into $PEER (first run: a few minutes)"
  mkdir -p "$PEER"
  # One of 2026.4's dependencies pins a linkedom version the registry no
  # longer has; the override picks one that exists.
  local overrides=""
  case $v in 2026.4.*) overrides=', "overrides": { "linkedom": "0.18.13" }' ;; esac
  cat >"$PEER/package.json" <<EOF
{ "name": "pairdeck-interop-peer", "private": true, "version": "0.0.0",
  "dependencies": { "node": "$NODE_MAJOR" }$overrides }
EOF
  (cd "$PEER" && timeout 900 npm install --no-audit --no-fund --loglevel=error) >>"$PEER/install.log" 2>&1 ||
    { echo "interop: npm install node@$NODE_MAJOR failed in $PEER (see $PEER/install.log)" >&2; exit 1; }
  [ -x "$NODE" ] || { echo "interop: no $NODE after installing node@$NODE_MAJOR" >&2; exit 1; }
  cat >"$PEER/package.json" <<EOF
{ "name": "pairdeck-interop-peer", "private": true, "version": "0.0.0",
  "dependencies": { "node": "$NODE_MAJOR", "openclaw": "$v" }$overrides }
EOF
  (cd "$PEER" && PATH="$(dirname "$NODE"):$PATH" timeout 1800 npm install --no-audit --no-fund --loglevel=error) >>"$PEER/install.log" 2>&1 ||
    { echo "interop: npm install openclaw@$v failed in $PEER (see $PEER/install.log)" >&2; exit 1; }
  echo "rc=0" >>"$PEER/install.log"
}

for v in "${VERSIONS[@]}"; do
  install_peer "$v"
  NODE_V=$("$NODE" --version 2>/dev/null || true)
  case $NODE_V in
    "v$NODE_MAJOR".*) ;;
    *) echo "interop: $NODE does not run node $NODE_MAJOR (got '${NODE_V}'); remove $PEER and retry" >&2; exit 1 ;;
  esac
  OC_V=$(timeout 120 "$NODE" "$OPENCLAW_MJS" --version 2>&1 || true)
  echo "peer $v: $OC_V, node $NODE_V"
  case $OC_V in *"$v"*) ;; *) echo "interop: unexpected openclaw version: $OC_V" >&2; exit 1 ;; esac
done

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
if (mode === "server" || mode === "server-generic") {
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
  if (mode === "server-generic") { report(`frames: hello-ok answered (${hellos} seen)`, hellos ? [] : ["no successful connect seen"]); process.exit(0); }
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
# Scripted OpenClaw-side clients, on the peer's own ws package and Node's
# Ed25519 (as scripts/openclaw-recorder.cjs makes them):
#   ocpeer.cjs node NAME CAPS COMMANDS [PERMISSIONS-JSON]
#       a node host: role node, a fresh device and the shared token ($OC_TOKEN)
#       to $OC_URL; prints a JSON line on hello-ok (or the refusal), then one
#       per node.pair.* event on its own socket, and stays connected
#   ocpeer.cjs device NAME IDFILE
#       an operator device from a browser origin, which no release approves
#       silently: prints {"requestId","reason"} from PAIRING_REQUIRED, or
#       {"paired":true,"deviceToken":…} once let in; the key is kept in IDFILE
#       so the same device can come back.
cat >"$WORK/ocpeer.cjs" <<'EOF'
"use strict";
const { WebSocket } = require(process.env.WS_MODULE);
const crypto = require("crypto");
const fs = require("fs");
const [cmd, name, a1, a2, a3] = process.argv.slice(2);
const URL_ = process.env.OC_URL, TOKEN = process.env.OC_TOKEN;
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

function identity(file) {
  let privateKey;
  if (file && fs.existsSync(file)) privateKey = crypto.createPrivateKey(fs.readFileSync(file, "utf8"));
  else {
    privateKey = crypto.generateKeyPairSync("ed25519").privateKey;
    if (file) fs.writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  }
  const raw = Buffer.from(crypto.createPublicKey(privateKey).export({ format: "jwk" }).x, "base64url");
  return { id: crypto.createHash("sha256").update(raw).digest("hex"), pub: raw.toString("base64url"), privateKey };
}

function sign(idn, p, nonce, signedAt) {
  const norm = (s) => (s || "").trim().toLowerCase();
  const token = p.auth?.token ?? p.auth?.deviceToken ?? "";
  const payload = ["v3", idn.id, p.client.id, p.client.mode, p.role, (p.scopes || []).join(","), String(signedAt), token, nonce,
    norm(p.client.platform), norm(p.client.deviceFamily)].join("|");
  return { id: idn.id, publicKey: idn.pub, signature: crypto.sign(null, Buffer.from(payload, "utf8"), idn.privateKey).toString("base64url"), signedAt, nonce };
}

// connect resolves {ws, res} once the gateway answered connect; onEvent gets
// every later event. A gateway still starting (UNAVAILABLE, retryable) is
// asked again.
function connectOnce(params, idn, origin, onEvent) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(URL_, { headers: origin ? { origin } : {}, maxPayload: 64 << 20 });
    let answered = false;
    ws.on("error", (e) => { if (!answered) reject(e); });
    ws.on("close", (code, reason) => {
      if (!answered) reject(new Error(`closed ${code} ${reason}`));
      else onEvent({ event: "closed", code, reason: reason.toString() });
    });
    ws.on("message", (d) => {
      let f; try { f = JSON.parse(d.toString()); } catch { return; }
      if (f.type === "event" && f.event === "connect.challenge" && !answered) {
        const p = JSON.parse(JSON.stringify(params));
        p.device = sign(idn, p, f.payload.nonce, f.payload.ts ?? Date.now());
        ws.send(JSON.stringify({ type: "req", id: "c1", method: "connect", params: p }));
      } else if (f.type === "res" && f.id === "c1") {
        answered = true;
        resolve({ ws, res: f });
      } else if (f.type === "event" && answered) onEvent(f);
    });
  });
}

async function connect(params, idn, origin, onEvent = () => {}) {
  for (let i = 0; ; i++) {
    const r = await connectOnce(params, idn, origin, onEvent);
    const e = r.res.error;
    if (r.res.ok || !(e && e.retryable && i < 120)) return r;
    r.ws.terminate();
    await new Promise((ok) => setTimeout(ok, Math.max(e.retryAfterMs || 500, 250)));
  }
}

(async () => {
  if (cmd === "node") {
    const idn = identity();
    const caps = a1 ? a1.split(",").filter(Boolean) : [];
    const commands = a2 ? a2.split(",").filter(Boolean) : [];
    const p = {
      minProtocol: 3, maxProtocol: 4,
      client: { id: "node-host", displayName: name, version: "interop", platform: "linux", deviceFamily: "Linux", mode: "node" },
      role: "node", scopes: [], caps, commands, auth: { token: TOKEN },
    };
    if (a3) p.permissions = JSON.parse(a3);
    const { res } = await connect(p, idn, null, (f) => {
      if (f.event === "closed") { out(f); process.exit(1); }
      if (String(f.event).startsWith("node.pair.")) out({ event: f.event, payload: f.payload, seq: f.seq ?? null });
    });
    if (!res.ok) { out({ event: "refused", error: res.error }); process.exit(1); }
    out({ event: "hello", nodeId: idn.id, protocol: res.payload.protocol, deviceToken: Boolean(res.payload.auth?.deviceToken) });
  } else if (cmd === "device") {
    const idn = identity(a1);
    const origin = new URL(URL_).origin.replace("ws:", "http:");
    const p = {
      minProtocol: 3, maxProtocol: 4,
      client: { id: "cli", displayName: name, version: "interop", platform: "linux", mode: "cli" },
      role: "operator", scopes: ["operator.read"], auth: { token: TOKEN },
    };
    const { ws, res } = await connect(p, idn, origin);
    ws.terminate();
    const d = res.error?.details || {};
    if (res.ok) out({ paired: true, deviceId: idn.id, deviceToken: Boolean(res.payload.auth?.deviceToken) });
    else if (d.code === "PAIRING_REQUIRED") out({ requestId: d.requestId, reason: d.reason, deviceId: idn.id });
    else { out({ error: res.error }); process.exit(1); }
    process.exit(0);
  } else {
    console.error("ocpeer: node|device"); process.exit(2);
  }
})().catch((e) => { out({ error: String(e) }); process.exit(1); });
EOF

# setup_version VERSION: the release's peer, free ports, a fresh shared token
# and a work dir of its own ($VW).
setup_version() {
  V=$1
  use_peer "$V"
  VW=$WORK/$V
  mkdir -p "$VW/oc-cli/home" "$VW/oc-cli/state"
  PORTS=($("$NODE" "$WORK/freeports.cjs" 6))
  TOKEN="interop-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  TOKEN_FILE=$VW/token
  (umask 077 && printf '%s\n' "$TOKEN" >"$TOKEN_FILE")
}

# oc: the release's own CLI with its own throwaway state (and so its own identity).
oc() {
  env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD \
    HOME="$VW/oc-cli/home" OPENCLAW_STATE_DIR="$VW/oc-cli/state" NO_COLOR=1 \
    timeout 90 "$NODE" "$OPENCLAW_MJS" "$@"
}
# ocw URL ARGS...: that CLI against the gateway at URL, with the shared token
# from the environment, never in argv (every release takes
# OPENCLAW_GATEWAY_URL with OPENCLAW_GATEWAY_TOKEN as explicit credentials).
ocw() {
  local url=$1; shift
  env -u OPENCLAW_GATEWAY_PASSWORD \
    HOME="$VW/oc-cli/home" OPENCLAW_STATE_DIR="$VW/oc-cli/state" NO_COLOR=1 \
    OPENCLAW_GATEWAY_URL="$url" OPENCLAW_GATEWAY_TOKEN="$TOKEN" \
    timeout 90 "$NODE" "$OPENCLAW_MJS" "$@"
}
ocg() { ocw "ws://127.0.0.1:$OC_PORT" "$@"; } # the release's own gateway
ocs() { ocw "$OCS_URL" "$@"; }                # pairdeck serve (through the recording proxy)

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
# Serve direction: the OpenClaw CLI (2026.4: protocol 3; 2026.7+: 4) and real
# `openclaw node run` node hosts -> pairdeck serve
# =============================================================================
serve_direction() {
  local PD_PORT=${PORTS[0]} PX_PORT=${PORTS[1]}
  OCS_URL=ws://127.0.0.1:$PX_PORT
  log "serve direction: OpenClaw $V CLI -> pairdeck serve (127.0.0.1:$PD_PORT, via recording proxy :$PX_PORT)"
  mkdir -p "$VW/pd-gw"
  start pd-serve env -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PORT \
    "$PAIRDECK" serve --state-dir "$VW/pd-gw" --listen "127.0.0.1:$PD_PORT" --token-file "$TOKEN_FILE"
  PD_PG=$LAST_PG
  if ! wait_port "$PD_PORT" 30; then
    fail "serve: pairdeck serve listens on 127.0.0.1:$PD_PORT" "$(tail -20 "$VW/pd-serve.log")"
    return
  fi
  pass "serve: pairdeck serve listens on 127.0.0.1:$PD_PORT"
  start proxy1 "$NODE" "$WORK/wsproxy.cjs" "$PX_PORT" "ws://127.0.0.1:$PD_PORT" "$VW/d1-frames.jsonl"
  wait_port "$PX_PORT" 15 || { fail "serve: recording proxy starts" "$(cat "$VW/proxy1.log")"; return; }

  # gateway call node.pair.request: a new request, then a refresh.
  runq R ocs gateway call node.pair.request --json --params '{"nodeId":"ic-n1","displayName":"Interop One","platform":"linux","permissions":{"camera":true,"screen":false}}'
  check "serve: gateway call node.pair.request creates a request (exit $R_RC)" "$R" \
    '.status=="pending" and .created==true and (.request.requestId|type=="string" and length>0) and .request.nodeId=="ic-n1" and .request.displayName=="Interop One" and .request.platform=="linux" and (.request.ts|type=="number") and (.request.silent==false) and ([..|objects|has("token")]|any|not)' "$R_ERR"
  check "serve: node.pair.request with permissions (2026.7+ nodes declare them): taken and echoed" "$R" \
    '.request.permissions=={"camera":true,"screen":false}' "$R_ERR"
  # The protocol the CLI offered and the one pairdeck answered with.
  local WANTP=4; ver_ge "$V" 2026.7.0 || WANTP=3
  local PJ_
  PJ_=$(jq -sc '[.[]|select(.dir=="c2s" and .frame.method=="connect")][0].frame.params as $c
    | [.[]|select(.dir=="s2c" and .frame.type=="res" and .frame.ok==true and .frame.payload.type=="hello-ok")][0].frame.payload.protocol as $p
    | {min:$c.minProtocol, max:$c.maxProtocol, answered:$p}' "$VW/d1-frames.jsonl" 2>/dev/null || echo null)
  check "serve: the CLI's connect ($(jq -r '"\(.min)..\(.max)"' <<<"$PJ_" 2>/dev/null)) is answered with protocol $WANTP" "$PJ_" ".answered==$WANTP and .min<=$WANTP and .max>=$WANTP"
  local RID1; RID1=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  runq R ocs gateway call node.pair.request --json --params '{"nodeId":"ic-n1","displayName":"Interop One b"}'
  check "serve: repeated node.pair.request keeps the requestId (created=false, name replaced, platform kept)" "$R" \
    ".status==\"pending\" and .created==false and .request.requestId==\"$RID1\" and .request.displayName==\"Interop One b\" and .request.platform==\"linux\"" "$R_ERR"
  runq R ocs gateway call node.pair.request --json --params '{"nodeId":"ic-n2","displayName":"Interop Two"}'
  local RID2; RID2=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  runq R ocs gateway call node.pair.request --json --params '{"nodeId":"ic-n3","displayName":"Interop Three","platform":"linux","caps":["system"],"commands":["system.run","system.notify"],"silent":true}'
  local RID3; RID3=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  check "serve: node.pair.request with caps/commands/silent" "$R" \
    '.created==true and .request.nodeId=="ic-n3" and .request.caps==["system"] and .request.commands==["system.run","system.notify"] and .request.silent==true' "$R_ERR"
  runq R ocs gateway call node.pair.request --json --params '{"nodeId":"ic-n9","bogus":1}'
  if [ "$R_RC" != 0 ] && grep -q "bogus" <<<"$R_ERR$R" ; then pass "serve: unknown param is refused, naming it"
  else fail "serve: unknown param is refused, naming it" "exit $R_RC; stdout: $R; stderr: $R_ERR"; fi

  # nodes pending
  runq R ocs nodes pending --json
  check "serve: nodes pending --json lists 3 requests newest first (exit $R_RC)" "$R" \
    "type==\"array\" and length==3 and map(.nodeId)==[\"ic-n3\",\"ic-n2\",\"ic-n1\"] and map(.requestId)==[\"$RID3\",\"$RID2\",\"$RID1\"]" "$R_ERR"
  check "serve: nodes pending --json: requiredApproveScopes per commands" "$R" \
    '(map(select(.nodeId=="ic-n3"))[0].requiredApproveScopes==["operator.pairing","operator.admin"]) and (map(select(.nodeId=="ic-n1"))[0].requiredApproveScopes==["operator.pairing"])'
  check "serve: nodes pending --json: ts on every request, expiresAtMs = ts + 5 min where given" "$R" \
    'all(.[]; (.ts|type=="number") and ((.expiresAtMs // (.ts+300000)) == .ts+300000))'
  runq R ocs nodes pending
  if [ "$R_RC" = 0 ] && grep -q "$RID1" <<<"$R" && grep -q "Interop One b" <<<"$R" ; then pass "serve: nodes pending (table) shows the requests"
  else fail "serve: nodes pending (table) shows the requests" "exit $R_RC; $R $R_ERR"; fi

  # approve / reject
  runq R ocs nodes approve "$RID1" --json
  check "serve: nodes approve returns the node with a fresh 43-char token (exit $R_RC)" "$R" \
    ".requestId==\"$RID1\" and .node.nodeId==\"ic-n1\" and .node.displayName==\"Interop One b\" and (.node.token|test(\"^[A-Za-z0-9_-]{43}\$\")) and (.node.approvedAtMs|type==\"number\")" "$R_ERR"
  check "serve: nodes approve carries the declared permissions to the paired node" "$R" '.node.permissions=={"camera":true,"screen":false}' "$R_ERR"
  local TOK1; TOK1=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
  runq R ocs nodes approve "$RID3" --json
  check "serve: nodes approve of an exec-class request (the CLI holds operator.admin)" "$R" ".requestId==\"$RID3\" and .node.nodeId==\"ic-n3\"" "$R_ERR"
  local TOK3; TOK3=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
  runq R ocs nodes reject "$RID2" --json
  check "serve: nodes reject (exit $R_RC)" "$R" ".requestId==\"$RID2\" and .nodeId==\"ic-n2\"" "$R_ERR"
  runq R ocs nodes reject "$RID2" --json
  if [ "$R_RC" != 0 ] && grep -qiE "unknown requestId|already|resolved|UNKNOWN_REQUEST" <<<"$R_ERR$R" ; then pass "serve: rejecting it again fails (stale id)"
  else fail "serve: rejecting it again fails (stale id)" "exit $R_RC; stdout: $R; stderr: $R_ERR"; fi
  runq R ocs gateway call node.pair.verify --json --params "{\"nodeId\":\"ic-n1\",\"token\":\"$TOK1\"}"
  check "serve: gateway call node.pair.verify accepts the approved token, without echoing it" "$R" \
    ".ok==true and .node.nodeId==\"ic-n1\" and (.node|has(\"token\")|not)" "$R_ERR"

  # A live node (pairdeck's own node side), approved with the OpenClaw CLI, so
  # that status has a connected node and hello-ok a presence entry.
  local ND=$VW/pd-node
  mkdir -p "$ND"
  start node-pair env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_STATE_DIR \
    "$PAIRDECK" node pair --state-dir "$ND" --node-dir "$ND" --url "ws://127.0.0.1:$PD_PORT" --name "Live Node" --json --wait 60s
  local NODE_PAIR_PID=$! LIVE_RID="" LIVE_ID="" deadline=$((SECONDS + 15))
  while [ $SECONDS -lt $deadline ] && [ -z "$LIVE_RID" ]; do
    sleep 0.5
    LIVE_RID=$(jq -r 'select(.event=="pending") | .requestId' "$VW/node-pair.log" 2>/dev/null | head -1 || true)
  done
  LIVE_ID=$(jq -r 'select(.event=="pending") | .nodeId' "$VW/node-pair.log" 2>/dev/null | head -1 || true)
  runq R ocs nodes approve "${LIVE_RID:-none}" --json
  check "serve: nodes approve of a waiting node's own request" "$R" ".node.nodeId==\"$LIVE_ID\" and .node.displayName==\"Live Node\"" "$R_ERR $(cat "$VW/node-pair.log")"
  local prc=0; wait "$NODE_PAIR_PID" || prc=$?
  if [ "$prc" = 0 ]; then
    start node-connect env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_STATE_DIR \
      "$PAIRDECK" node connect --state-dir "$ND" --node-dir "$ND" --url "ws://127.0.0.1:$PD_PORT"
    sleep 1.5
  else
    fail "serve: pairdeck node pair ends approved" "exit $prc: $(cat "$VW/node-pair.log")"
  fi

  # status / rename / list
  runq R ocs nodes status --json
  check "serve: nodes status --json shows the live node connected" "$R" \
    ".nodes[0].nodeId==\"$LIVE_ID\" and .nodes[0].connected==true and .nodes[0].paired==true and (.nodes[0].connectedAtMs|type==\"number\")" "$R_ERR"
  check "serve: nodes status --json shows the paired nodes (exit $R_RC)" "$R" \
    '(.ts|type=="number") and (.nodes|type=="array") and (.nodes|map(select(.nodeId=="ic-n1"))[0] | .paired==true and .connected==false and .displayName=="Interop One b" and (.caps|type=="array") and (.commands|type=="array"))' "$R_ERR"
  runq R ocs nodes status
  if [ "$R_RC" = 0 ] && grep -q "Known:" <<<"$R" && grep -q "ic-n1" <<<"$R" ; then pass "serve: nodes status (table)"
  else fail "serve: nodes status (table)" "exit $R_RC; $R $R_ERR"; fi
  runq R ocs nodes rename --node ic-n1 --name "Living Room" --json
  check "serve: nodes rename --node <id> (node.list lookup, then node.rename) (exit $R_RC)" "$R" \
    '.nodeId=="ic-n1" and .displayName=="Living Room"' "$R_ERR"
  runq R ocs nodes rename --node "Living Room" --name "Kitchen"
  if [ "$R_RC" = 0 ] && grep -q "ic-n1 -> Kitchen" <<<"$R" ; then pass "serve: nodes rename --node <name>"
  else fail "serve: nodes rename --node <name>" "exit $R_RC; $R $R_ERR"; fi
  runq R ocs nodes status --json
  check "serve: nodes status shows the new name" "$R" '.nodes|map(select(.nodeId=="ic-n1"))[0].displayName=="Kitchen"' "$R_ERR"
  runq R ocs nodes list --json
  local LJ; LJ=$(jsonpart "$R")
  check "serve: nodes list --json: pending and paired, no tokens (exit $R_RC)" "$LJ" \
    '(.pending|type=="array" and length==0) and (.paired|map(.nodeId)|index("ic-n1") and index("ic-n3") and length==3) and ([.paired[]|has("token") or has("tokenSha256")]|any|not)' "$R_ERR"

  # Commands beyond pairing requests: each works, or fails saying what
  # pairdeck does not serve.
  runq R ocs nodes describe --node ic-n1 --json
  if served node.describe; then
    check "serve: nodes describe --node <id> (node.describe; exit $R_RC)" "$(jsonpart "$R")" \
      '.nodeId=="ic-n1" and .displayName=="Kitchen" and .paired==true and (.caps|type=="array") and (.commands|type=="array")' "$R_ERR"
  else
    expect "serve: nodes describe fails in one line naming the method pairdeck does not serve (node.describe)" \
      "$( [ "$R_RC" != 0 ] && has "$R$R_ERR" "unknown method: node.describe" && echo 0 || echo 1)" "exit $R_RC; $R $R_ERR"
  fi
  if ver_ge "$V" 2026.7.0; then # 2026.4 has no `nodes remove`
    runq R ocs nodes remove --node ic-n3 --json
    check "serve: nodes remove --node <id> (node.pair.remove; exit $R_RC)" "$(jsonpart "$R")" '.nodeId=="ic-n3"' "$R_ERR"
    runq R ocs nodes status --json
    check "serve: the removed node is gone from nodes status" "$(jsonpart "$R")" '(.nodes|map(.nodeId)|index("ic-n3"))==null and (.nodes|map(.nodeId)|index("ic-n1"))!=null' "$R_ERR"
  fi
  runq R ocs devices list --json
  expect "serve: devices list fails in one line: pairdeck pairs nodes, not operator devices (unknown method: device.pair.list)" \
    "$( [ "$R_RC" != 0 ] && has "$R$R_ERR" "unknown method: device.pair.list" && echo 0 || echo 1)" "exit $R_RC; $R $R_ERR"

  # wire-level checks on what pairdeck sent the OpenClaw CLI
  if [ "$WANTP" = 3 ]; then
    frame_checks "$VW/d1-frames.jsonl" server "serve: "
  else
    # (the schemas mirrored here are 2026.4.12's; a 2026.7+ CLI checks
    # protocol-4 frames itself, and every command above ran on them)
    frame_checks "$VW/d1-frames.jsonl" server-generic "serve: "
  fi
  "$NODE" "$WORK/frames.cjs" "$VW/d1-frames.jsonl" summary >"$VW/d1-summary.jsonl" || true
  serve_node_hosts
  # the tokens pairdeck issued: by approve to the CLI, in hello-ok to node hosts
  local TOKS; TOKS=$(jq -r 'select(.dir=="s2c") | .frame.payload.auth.deviceToken? // empty' "$VW/d3-frames.jsonl" 2>/dev/null | sort -u | tr '\n' ' ')
  TOKS="$TOKS ${TOK1:-} ${TOK3:-}"
  local leaked=0 t
  local SLOGS=("$VW"/pd-serve*.log)
  for t in $TOKS; do grep -qF -- "$t" "${SLOGS[@]}" && leaked=1; done
  if [ -z "${TOKS// /}" ] || [ "$leaked" = 1 ]; then fail "serve: node tokens never appear in pairdeck serve's log" "${TOKS:+a token pairdeck issued is in ${SLOGS[*]}}"
  else pass "serve: node tokens never appear in pairdeck serve's log"; fi
  if grep -qF "$TOKEN" "${SLOGS[@]}"; then fail "serve: the operator token never appears in pairdeck serve's log"
  else pass "serve: the operator token never appears in pairdeck serve's log"; fi
}

# Real node hosts against pairdeck serve: `openclaw node run` started as its
# docs say (the shared token in OPENCLAW_GATEWAY_TOKEN), through a recording
# proxy. Its connect files a request; the operator sees it in `pairdeck nodes
# pending` and in the console (tmux); it is approved there with one key
# (2026.4.12, 2026.9.6) or with `pairdeck nodes approve` (2026.7.35, and
# every release with --no-console); the host reconnects with the token it
# was handed in hello-ok and stays connected as paired. 2026.7.35 also has a
# second host rejected.
serve_node_hosts() {
  local NH_PORT=${PORTS[4]} name="NH $V" sess=serve
  log "serve direction: a real OpenClaw $V node host -> pairdeck serve (via recording proxy :$NH_PORT)"
  start proxy3 "$NODE" "$WORK/wsproxy.cjs" "$NH_PORT" "ws://127.0.0.1:$PD_PORT" "$VW/d3-frames.jsonl"
  wait_port "$NH_PORT" 15 || { fail "serve: node host proxy starts" "$(cat "$VW/proxy3.log")"; return; }
  mkdir -p "$VW/pd-cli-s"
  pds() { env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR NO_COLOR=1 \
    timeout 60 "$PAIRDECK" nodes "$@" --state-dir "$VW/pd-cli-s" --url "ws://127.0.0.1:$PD_PORT" --token-file "$TOKEN_FILE"; }
  local BY=cli
  if [ "$CONSOLE" = 1 ]; then
    case $V in 2026.7.*) ;; *) BY=console ;; esac
    mkdir -p "$VW/pd-console-s"
    local cmd
    printf -v cmd 'env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR TERM=xterm-256color %q console --url %q --token-file %q --state-dir %q 2>%q; sleep 600' \
      "$PAIRDECK" "ws://127.0.0.1:$PD_PORT" "$TOKEN_FILE" "$VW/pd-console-s" "$VW/console-serve.stderr"
    tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s "$sess" -x 160 -y 40 "$cmd"
  fi
  # node_host NAME DIR [LOG [notoken]]: a real node host with its own HOME
  # and state in $VW/DIR, given the shared token unless "notoken".
  node_host() {
    local envtok=(OPENCLAW_GATEWAY_TOKEN="$TOKEN")
    [ "${4:-}" = notoken ] && envtok=(-u OPENCLAW_GATEWAY_TOKEN)
    mkdir -p "$VW/$2/state" "$VW/$2/home"
    start "${3:-$2}" env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_PASSWORD "${envtok[@]}" HOME="$VW/$2/home" OPENCLAW_STATE_DIR="$VW/$2/state" \
      OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 NO_COLOR=1 \
      "$NODE" "$OPENCLAW_MJS" node run --host 127.0.0.1 --port "$NH_PORT" --display-name "$1"
  }
  # asked NAME: NAME's request is in pairdeck's queue.
  asked() { pds pending --json 2>/dev/null | jq -e --arg n "$1" 'map(select(.displayName==$n))|length==1' >/dev/null; }
  node_host "$name" nh-a
  local NHPG=$LAST_PG
  wait_for 180 asked "$name" || true
  runq R pds pending --json
  local NRID NHID
  NRID=$(idof "$R" "$name"); NHID=$(nodeof "$R" "$name")
  check "serve: a real $V node host's connect files a pairing request (nodes pending --json)" "$R" \
    "map(select(.displayName==\"$name\"))[0] | (.nodeId|test(\"^[0-9a-f]{64}\$\")) and .version==\"$V\" and .platform==\"linux\" and (.commands|index(\"system.run\")) and .requiredApproveScopes==[\"operator.pairing\",\"operator.admin\"]" \
    "$R_ERR $(tail -20 "$VW/nh-a.log")"
  local pane=""
  if [ "$CONSOLE" = 1 ]; then
    wait_for 30 bash -c "tmux -L '$TMUX_SOCK' capture-pane -p -t '$sess' 2>/dev/null | grep -q '$name'" || true
    pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t "$sess" 2>/dev/null || true)
    printf '%s\n' "$pane" >"$VW/console-serve-1.txt"
    expect "serve: the console (tmux, attached to pairdeck serve) shows the node host's request" \
      "$(has "$pane" "$name" && echo 0 || echo 1)" "$pane$(tail -5 "$VW/console-serve.stderr" 2>/dev/null)"
  fi
  local mark; mark=$(now_ms)
  if [ "$BY" = console ]; then
    tmux -L "$TMUX_SOCK" send-keys -t "$sess" /
    sleep 0.5
    tmux -L "$TMUX_SOCK" send-keys -t "$sess" -l "$name"
    tmux -L "$TMUX_SOCK" send-keys -t "$sess" Enter
    sleep 1
    tmux -L "$TMUX_SOCK" send-keys -t "$sess" a
  else
    runq R pds approve "${NRID:-none}"
    expect "serve: pairdeck nodes approve of the node host's request (exit $R_RC)" "$( [ "$R_RC" = 0 ] && has "$R" "Approved $name" && echo 0 || echo 1)" "$R $R_ERR"
  fi
  # paired_online ID: pairdeck lists ID paired and connected.
  paired_online() { pds status --json 2>/dev/null | jq -e --arg n "$1" '.nodes|map(select(.nodeId==$n and .paired==true and .connected==true))|length==1' >/dev/null; }
  local how="with one key in the console"; [ "$BY" = cli ] && how="from the CLI"
  local gone=""
  if ver_ge "$V" 2026.7.0; then
    wait_for 90 paired_online "${NHID:-none}" || true
    runq R pds status --json
    kill -0 -- "-$NHPG" 2>/dev/null || gone=" (the host process has ended: $(tail -3 "$VW/nh-a.log" | tr '\n' ' '))"
    check "serve: approved $how, the node host is back, paired and online (nodes status)" "$R" \
      ".nodes|map(select(.nodeId==\"$NHID\"))[0] | .paired==true and .connected==true and .displayName==\"$name\"" "$R_ERR
$(tail -8 "$VW/nh-a.log")$gone"
  else
    # A 2026.4 host's process ends when its socket closes (its reconnect
    # timer is unref'd), so pairdeck keeps the socket of a protocol-3 host
    # on approval: paired at once, let in paired at its next connect.
    paired_only() { pds status --json 2>/dev/null | jq -e --arg n "$1" '.nodes|map(select(.nodeId==$n and .paired==true))|length==1' >/dev/null; }
    wait_for 60 paired_only "${NHID:-none}" || true
    sleep 5 # the close would come right after the approval
    runq R pds status --json
    local kept=0 closes
    closes=$(jq -s --arg d "$NHID" '(map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d)|.conn)) as $cs | [ .[] | select(.dir=="s-close" and (.conn as $c | $cs|index($c))) ] | length' "$VW/d3-frames.jsonl" 2>/dev/null || echo x)
    kill -0 -- "-$NHPG" 2>/dev/null && [ "$closes" = 0 ] && kept=1
    check "serve: approved $how, the 2026.4 host is paired and keeps its socket (its process goes on)" \
      "$(jq -c --argjson k "$kept" '{kept:($k==1), node:(.nodes|map(select(.nodeId=="'"$NHID"'"))[0])}' <<<"$(jsonpart "$R")" 2>/dev/null || echo null)" \
      '.kept==true and .node.paired==true' "closes on its connections: $closes; $(tail -4 "$VW/nh-a.log")"
    gone=" (restarted)"
    printf 'NOTE [%s] the 2026.4 host is let in paired at its next connect: started again, as a user or its service manager would\n' "$V"
    stop "$NHPG"
    node_host "$name" nh-a nh-a1
    NHPG=$LAST_PG
    wait_for 120 paired_online "${NHID:-none}" || true
    runq R pds status --json
    check "serve: started again, the 2026.4 host is let in paired and online" "$R" \
      ".nodes|map(select(.nodeId==\"$NHID\"))[0] | .paired==true and .connected==true" "$R_ERR $(tail -5 "$VW/nh-a1.log")"
  fi
  # It stays: one connection for a while (no reconnect loop), still online.
  local conns0; conns0=$(jq -s --arg d "$NHID" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")
  local NHLOG=$VW/nh-a.log; [ -n "$gone" ] && NHLOG=$VW/nh-a1.log
  local loglines; loglines=$(wc -l <"$NHLOG")
  sleep 20 # an observation window: a refused host retries within 1-2 s
  local conns1; conns1=$(jq -s --arg d "$NHID" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")
  local later; later=$(tail -n +"$((loglines + 1))" "$NHLOG")
  expect "serve: the node host stays connected as paired (20 s: no new connect, still online, nothing refused in its log)" \
    "$( [ "$conns1" = "$conns0" ] && paired_online "$NHID" && lacks "$later" "pairing required" "connect failed" "closed (" "unauthorized" && echo 0 || echo 1)" \
    "connects before/after: $conns0/$conns1; host log since: $later"
  # pairdeck serve restarts: the paired host comes back and is let in paired
  # (started with the shared token, it signs in with that token). Not for
  # 2026.4, whose node host ends on any close (see above).
  # reconnected N: the host connected more than N times and is paired and online.
  reconnected() { [ "$(jq -s --arg d "$NHID" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")" -gt "$1" ] && paired_online "$NHID"; }
  if ver_ge "$V" 2026.7.0; then
    stop "$PD_PG"
    start pd-serve-2 env -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PORT \
      "$PAIRDECK" serve --state-dir "$VW/pd-gw" --listen "127.0.0.1:$PD_PORT" --token-file "$TOKEN_FILE"
    PD_PG=$LAST_PG
    wait_port "$PD_PORT" 30 || true
    local c2; c2=$(jq -s --arg d "$NHID" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")
    wait_for 90 reconnected "$c2" || true
    runq R pds status --json
    check "serve: after pairdeck serve restarts, the node host is back, paired and online" "$R" \
      ".nodes|map(select(.nodeId==\"$NHID\"))[0] | .paired==true and .connected==true" "$R_ERR $(tail -5 "$VW/nh-a.log")"
  fi
  # The host restarted without the shared token (a paired node needs none):
  # it signs in with the token pairdeck handed it in hello-ok
  # (auth.deviceToken) and is let in.
  stop "$NHPG"
  local mark2; mark2=$(now_ms)
  node_host "$name" nh-a nh-a2 notoken
  NHPG=$LAST_PG
  local c3; c3=$(jq -s --arg d "$NHID" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")
  wait_for 150 reconnected "$c3" || true
  local W
  W=$(jq -sc --arg d "$NHID" --argjson m "$mark2" '
    (map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))) as $cs
    | ($cs|map(.conn)) as $cids
    | (map(select(.dir=="s2c" and .frame.type=="res" and .frame.ok==true and .frame.payload.type=="hello-ok" and (.conn as $c | $cids|index($c))))) as $hs
    | ([ $hs[] | .frame.payload.auth.deviceToken? // empty ] | first) as $tok
    | ([ $cs[] | select(.t > $m) ] | last) as $last
    | { handed: ($tok != null),
        signIn: ($last.frame.params.auth | if . == null then "none" elif (.deviceToken? // .token?) == $tok then "the issued token" elif .token? then "another token" else "other" end),
        letIn: ([ $hs[] | select(.conn == $last.conn) ] | length == 1),
        method: ([ $hs[] | select(.conn == $last.conn) | .frame.payload.auth.method? ] | first) }' "$VW/d3-frames.jsonl" 2>/dev/null || echo null)
  check "serve: restarted without the shared token, the host signs in with the token pairdeck handed it in hello-ok, and is let in" "$W" \
    '.handed==true and .signIn=="the issued token" and .letIn==true' "$(tail -5 "$VW/nh-a2.log")"
  runq R pds status --json
  check "serve: ... and nodes status shows it paired and online" "$R" \
    ".nodes|map(select(.nodeId==\"$NHID\"))[0] | .paired==true and .connected==true" "$R_ERR"
  case $V in
    2026.4.*) ;; # its node host logs nothing on connect
    *) expect "serve: the node host's own log: closed by the approval (1012), connected again; restarted: connected" \
         "$(grep -q 'node host gateway closed (1012): pairing approved' "$VW/nh-a.log" && [ "$(grep -c 'node host gateway connected' "$VW/nh-a.log")" -ge 2 ] &&
            grep -q 'node host gateway connected' "$VW/nh-a2.log" && lacks "$(cat "$VW/nh-a2.log")" "pairing required" "connect failed" && echo 0 || echo 1)" \
         "$(tail -12 "$VW/nh-a.log"; echo ---; tail -8 "$VW/nh-a2.log")" ;;
  esac
  if [ "$BY" = console ]; then
    pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t "$sess" 2>/dev/null || true)
    printf '%s\n' "$pane" >"$VW/console-serve-2.txt"
    grep -E "Approved|approved" "$VW/console-serve-2.txt" | head -2 | sed 's/^ *//; s/^/serve console flash: /' >>"$VW/console-notes.txt" || true
  fi

  # A rejection (one release): the request leaves the queue, the host is not
  # let in as paired; kept on unpaired for a grace, then closed, it connects
  # again and asks again (a new request), as it does with OpenClaw's gateway.
  case $V in
    2026.7.*)
      local rname="NH $V rejected"
      node_host "$rname" nh-r
      wait_for 180 asked "$rname" || true
      runq R pds pending --json
      local RRID RHID
      RRID=$(idof "$R" "$rname"); RHID=$(nodeof "$R" "$rname")
      runq R pds reject "${RRID:-none}"
      expect "serve: pairdeck nodes reject of a second node host's request (exit $R_RC)" "$( [ "$R_RC" = 0 ] && has "$R" "Rejected request $RRID" && echo 0 || echo 1)" "$R $R_ERR"
      asked_again() { pds pending --json 2>/dev/null | jq -e --arg n "$RHID" --arg r "$RRID" 'map(select(.nodeId==$n and .requestId!=$r))|length==1' >/dev/null; }
      wait_for 90 asked_again || true
      runq R pds status --json
      local SJ=$R
      runq R pds pending --json
      check "serve: the rejected node host is not paired, its request gone; reconnecting, it asked again (new request)" \
        "$(jq -nc --argjson s "$(jsonpart "$SJ")" --argjson p "$(jsonpart "$R")" '{s:$s,p:$p}' 2>/dev/null || echo null)" \
        "(.s.nodes|map(select(.nodeId==\"$RHID\" and .paired==true))|length==0) and (.p|map(select(.requestId==\"$RRID\"))|length==0) and (.p|map(select(.nodeId==\"$RHID\"))|length==1)" "$SJ"
      local RW
      RW=$(jq -sc --arg d "$RHID" '(map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d)|.conn)) as $cs
        | { tokens: [ .[] | select(.dir=="s2c" and (.conn as $c | $cs|index($c)) and .frame.payload.auth.deviceToken? != null) ] | length,
            closes: [ .[] | select(.dir=="s-close" and (.conn as $c | $cs|index($c))) | .reason ] }' "$VW/d3-frames.jsonl" 2>/dev/null || echo null)
      check "serve: the rejected host was never handed a token; pairdeck closed its socket saying why" "$RW" \
        '.tokens==0 and (.closes|length>=1) and (.closes|all(length>0))'
      ;;
  esac
  if [ "$CONSOLE" = 1 ]; then
    tmux -L "$TMUX_SOCK" send-keys -t "$sess" Escape
    tmux -L "$TMUX_SOCK" send-keys -t "$sess" q
    sleep 0.5
    tmux -L "$TMUX_SOCK" kill-session -t "$sess" 2>/dev/null || true
  fi
  stop "$NHPG"
  serve_setup_codes
}

# Setup codes (2026.8+ node hosts read oc-pair:// links): `pairdeck codes
# create --allow-exec` prints a link; a real node host given it in a 0600
# file (`openclaw connect --target-file`, which reads and deletes it: the
# secret never in argv) is approved by the code (audit: "code <id>") and
# comes back with its device token; a second host with the same used-up
# single-use link is not let in; a code without --allow-exec leaves a
# default host (it declares system.run) in the normal queue.
serve_setup_codes() {
  local NH_PORT=${PORTS[4]}
  ver_ge "$V" 2026.8.0 || return 0
  if ! served pairdeck.codes.create; then
    printf 'NOTE [%s] setup codes: pairdeck serve does not offer pairdeck.codes.create yet; skipped\n' "$V"
    return 0
  fi
  log "serve direction: setup codes, a real OpenClaw $V node host given an oc-pair:// link"
  pdc() { env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR NO_COLOR=1 \
    timeout 60 "$PAIRDECK" codes "$@" --state-dir "$VW/pd-cli-s" --url "ws://127.0.0.1:$PD_PORT" --token-file "$TOKEN_FILE"; }
  # connect_host NAME DIR LINKFILE: `openclaw connect --target-file` as a node.
  connect_host() {
    mkdir -p "$VW/$2/state" "$VW/$2/home"
    start "$2" env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_GATEWAY_TOKEN HOME="$VW/$2/home" OPENCLAW_STATE_DIR="$VW/$2/state" \
      OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 NO_COLOR=1 \
      "$NODE" "$OPENCLAW_MJS" connect --target-file "$3" --display-name "$1"
  }
  # idname NAME: the node id a host named NAME connected with (recorded frames).
  idname() { jq -r --arg n "$1" 'select(.dir=="c2s" and .frame.method=="connect" and .frame.params.client.displayName==$n) | .frame.params.device.id' "$VW/d3-frames.jsonl" 2>/dev/null | head -1; }
  named_online() { pds status --json 2>/dev/null | jq -e --arg n "$1" '.nodes|map(select(.displayName==$n and .paired==true and .connected==true))|length==1' >/dev/null; }
  seen() { [ -n "$(idname "$1")" ]; }

  runq R pdc create --allow-exec --note interop --json --link-url "ws://127.0.0.1:$NH_PORT"
  local CJ=$R CID LINK
  CID=$(jq -r '.code.id // empty' <<<"$CJ" 2>/dev/null || true)
  LINK=$(jq -r '.setupLink // empty' <<<"$CJ" 2>/dev/null || true)
  local DEC
  DEC=$("$NODE" -e 'const l=process.argv[1]||"";const m=/^oc-pair:\/\/([A-Za-z0-9_-]+)$/.exec(l);if(!m){console.log("null");process.exit(0)}
    const p=JSON.parse(Buffer.from(m[1],"base64url").toString("utf8"));console.log(JSON.stringify({url:p.url,token:typeof p.bootstrapToken==="string"&&p.bootstrapToken.length>0,exp:p.expiresAtMs,keys:Object.keys(p).sort()}))' "$LINK" 2>/dev/null || echo null)
  check "serve: codes create --allow-exec prints an oc-pair:// setup link: {url, bootstrapToken, expiresAtMs} for the node's way in (exit $R_RC)" "$DEC" \
    ".url==\"ws://127.0.0.1:$NH_PORT\" and .token==true and (.exp|type==\"number\") and .keys==[\"bootstrapToken\",\"expiresAtMs\",\"url\"]" "$R_ERR"
  [ -n "$LINK" ] || return 0

  # 1. the host with the link in a 0600 file
  local F1=$VW/link-1
  (umask 077 && printf '%s\n' "$LINK" >"$F1")
  local n1="NH code one"
  connect_host "$n1" nc-1 "$F1"
  local C1PG=$LAST_PG
  wait_for 150 named_online "$n1" || true
  local N1; N1=$(idname "$n1")
  runq R pds status --json
  check "serve: the host given the link (openclaw connect --target-file) is approved by the code, paired and online, nobody approving" "$R" \
    ".nodes|map(select(.displayName==\"$n1\"))[0] | .paired==true and .connected==true" "$R_ERR $(tail -6 "$VW/nc-1.log")"
  expect "serve: openclaw connect removed the link file" "$( [ ! -e "$F1" ] && echo 0 || echo 1)"
  runq R pds history --json --limit 0
  check "serve: the approval's actor is the code (code $CID)" "$(jsonpart "$R")" \
    "[.events[]|select(.nodeId==\"$N1\" and .action==\"approved\")]|length==1 and (.[0].by==\"code $CID\")" "$R_ERR"
  local H1
  H1=$(jq -sc --arg d "$N1" '(map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|first) as $c
    | {auth:($c.frame.params.auth|keys), hello:(map(select(.conn==$c.conn and .dir=="s2c" and .frame.payload.type?=="hello-ok"))|first|.frame.payload.auth|{method,hasToken:(.deviceToken!=null)})}' "$VW/d3-frames.jsonl" 2>/dev/null || echo null)
  check "serve: on the wire: connect with auth.bootstrapToken only, hello-ok hands it a device token" "$H1" \
    '.auth==["bootstrapToken"] and .hello.hasToken==true' "$H1"
  # comes back with its device token (plain `openclaw node run`: its saved gateway, its token)
  stop "$C1PG"
  local c0; c0=$(jq -s --arg d "$N1" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")
  mkdir -p "$VW/nc-1/state"
  start nc-1b env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_GATEWAY_TOKEN HOME="$VW/nc-1/home" OPENCLAW_STATE_DIR="$VW/nc-1/state" \
    OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 NO_COLOR=1 "$NODE" "$OPENCLAW_MJS" node run --display-name "$n1"
  C1PG=$LAST_PG
  back() { [ "$(jq -s --arg d "$N1" 'map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|length' "$VW/d3-frames.jsonl")" -gt "$c0" ] && named_online "$n1"; }
  wait_for 150 back || true
  local H2
  H2=$(jq -sc --arg d "$N1" '(map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$d))|last) as $c
    | {auth:($c.frame.params.auth|keys), ok:(map(select(.conn==$c.conn and .dir=="s2c" and .frame.payload.type?=="hello-ok"))|length==1)}' "$VW/d3-frames.jsonl" 2>/dev/null || echo null)
  check "serve: restarted (openclaw node run, no link, no token given), it signs in with its device token and is let in" "$H2" \
    '.auth==["deviceToken"] and .ok==true' "$H2 $(tail -5 "$VW/nc-1b.log")"
  stop "$C1PG"

  # 2. a second host with the same, used-up single-use link
  local F2=$VW/link-2 n2="NH code two"
  (umask 077 && printf '%s\n' "$LINK" >"$F2")
  connect_host "$n2" nc-2 "$F2"
  local C2PG=$LAST_PG
  wait_for 120 seen "$n2" || true
  local N2; N2=$(idname "$n2")
  refused_or_queued() { asked "$n2" || grep -qiE 'setup code|already used|invalid' "$VW/nc-2.log"; }
  wait_for 60 refused_or_queued || true
  runq R pds status --json
  local SJ2=$R
  runq R pds pending --json
  local how2="refused"; asked "$n2" && how2="queued"
  check "serve: a second host with the same used-up single-use link is not let in ($how2)" \
    "$(jq -nc --argjson s "$(jsonpart "$SJ2")" --argjson p "$(jsonpart "$R")" --arg how "$how2" '{s:$s,p:$p,how:$how}' 2>/dev/null || echo null)" \
    "(.s.nodes|map(select(.displayName==\"$n2\" and .paired==true))|length==0) and (.how==\"refused\" or (.p|map(select(.displayName==\"$n2\"))|length==1))" \
    "$(tail -6 "$VW/nc-2.log")"
  printf '     used-up link: %s; host says: %s\n' "$how2" "$(grep -iE 'setup code|pairing required|invalid|refused' "$VW/nc-2.log" | tail -1 | cut -c1-200)"
  stop "$C2PG"

  # 3. a code without --allow-exec: a default host declares system.run
  runq R pdc create --note interop-noexec --json --link-url "ws://127.0.0.1:$NH_PORT"
  local LINK3; LINK3=$(jq -r '.setupLink // empty' <<<"$R" 2>/dev/null || true)
  local F3=$VW/link-3 n3="NH code three"
  (umask 077 && printf '%s\n' "$LINK3" >"$F3")
  connect_host "$n3" nc-3 "$F3"
  local C3PG=$LAST_PG
  wait_for 150 asked "$n3" || true
  runq R pds pending --json
  check "serve: a code without --allow-exec leaves a host declaring system.run in the normal queue" "$R" \
    "map(select(.displayName==\"$n3\"))|length==1" "$R_ERR $(tail -6 "$VW/nc-3.log")"
  runq R pds status --json
  check "serve: ... not paired" "$R" ".nodes|map(select(.displayName==\"$n3\" and .paired==true))|length==0" "$R_ERR"
  stop "$C3PG"
  [ -n "$N2" ] || true
}

# =============================================================================
# Client direction: pairdeck -> the release's gateway
# =============================================================================

# start_oc_gateway: the release's gateway offline on 127.0.0.1:$OC_PORT with
# token auth (openclaw.json written as OpenClaw reads it: local mode, the
# port, the token, mDNS and update checks off), in $VW/oc-gw. It returns once
# the port answers and, where the release says so ("[gateway] ready": 2026.9
# answers "gateway starting" until then), once it is ready.
start_oc_gateway() {
  local GW=$VW/oc-gw
  mkdir -p "$GW/state" "$GW/home"
  printf '{"gateway":{"mode":"local","port":%d,"auth":{"mode":"token","token":"%s"}},"update":{"checkOnStart":false},"discovery":{"mdns":{"mode":"off"}}}\n' \
    "$OC_PORT" "$TOKEN" >"$GW/state/openclaw.json"
  chmod 600 "$GW/state/openclaw.json"
  start oc-gateway env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_GATEWAY_PORT \
    HOME="$GW/home" OPENCLAW_STATE_DIR="$GW/state" \
    OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 OPENCLAW_NO_RESPAWN=1 NO_COLOR=1 \
    OPENCLAW_SKIP_CRON=1 OPENCLAW_SKIP_GMAIL_WATCHER=1 OPENCLAW_SKIP_CANVAS_HOST=1 OPENCLAW_SKIP_BROWSER_CONTROL_SERVER=1 \
    "$NODE" "$OPENCLAW_MJS" gateway run --bind loopback --port "$OC_PORT" --auth token # the token: openclaw.json (0600)
  OC_GW_PG=$LAST_PG
  wait_port "$OC_PORT" 180 || return 1
  # 2026.8+ answers "gateway starting" until it logs "[gateway] ready".
  # Earlier releases open the port a moment before their own line
  # (2026.4: "[gateway] ready (…)", 2026.7: "[gateway] http server
  # listening (…)"), and a WebSocket can be dropped before its challenge
  # meanwhile (seen on 2026.4.12 under load): wait for it there too, going
  # on without it if it never comes.
  if ver_ge "$V" 2026.8.0; then
    wait_for 240 grep -q '\[gateway\] ready' "$VW/oc-gateway.log" || return 1
  else
    wait_for 120 grep -qE '\[gateway\] (ready|http server listening)' "$VW/oc-gateway.log" || true
  fi
}

# ver_ge A B: version A is B or later.
ver_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }

# stalled CMD...: run CMD; if the release did not answer its handshake at
# all (its Node event loop busy: 2026.4.12 was seen stalling 10+ s while it
# loaded and ran its embedded agent, refusing every connect meanwhile), say
# so and run it once more. Such stalls are counted and listed at the end,
# not hidden.
stalled() {
  local rc=0 errf=$WORK/.stall-$$
  "$@" 2>"$errf" || rc=$?
  if [ "$rc" != 0 ] && grep -q "no answer waiting for hello-ok" "$errf"; then
    # (often inside runq's command substitution: the note goes to the
    # script's own stdout, fd 3, and the list to a file)
    printf '[%s] %s %s\n' "$V" "$(date +%T)" "$*" >>"$WORK/stalls.txt"
    printf 'NOTE [%s] the gateway did not answer the handshake in time (busy); retrying: %s\n' "$V" "$*" >&3
    rc=0; "$@" 2>"$errf" || rc=$?
  fi
  cat "$errf" >&2; rm -f "$errf"
  return "$rc"
}

# offers METHOD: the gateway advertised METHOD in its hello-ok to pairdeck.
offers() {
  jq -se --arg m "$1" 'first(.[] | select(.dir=="s2c" and (.frame|type)=="object" and .frame.type=="res" and .frame.ok==true and (.frame.payload|type)=="object" and .frame.payload.type=="hello-ok")) | .frame.payload.features.methods | index($m) != null' \
    "$VW/d2-frames.jsonl" >/dev/null 2>&1
}

# served METHOD: pairdeck serve advertised METHOD in its hello-ok to the CLI.
served() {
  jq -se --arg m "$1" 'first(.[] | select(.dir=="s2c" and (.frame|type)=="object" and .frame.type=="res" and .frame.ok==true and (.frame.payload|type)=="object" and .frame.payload.type=="hello-ok")) | .frame.payload.features.methods | index($m) != null' \
    "$VW/d1-frames.jsonl" >/dev/null 2>&1
}

# idof JSON NAME: the requestId of NAME's request in a pending list.
idof() { printf '%s' "$1" | jq -r --arg n "$2" 'map(select(.displayName==$n))[0].requestId // empty' 2>/dev/null || true; }
# nodeof JSON NAME: the nodeId of NAME in a pending list.
nodeof() { printf '%s' "$1" | jq -r --arg n "$2" 'map(select(.displayName==$n))[0].nodeId // empty' 2>/dev/null || true; }

# scripted_node NAME CAPS COMMANDS [PERMISSIONS]: a scripted node host
# connected to the gateway (2026.8+ files its request itself); returns once it
# is in, with its node id in SN_ID and its process group in SN_PG.
scripted_node() {
  local name=$1 log=node-${1// /-}
  start "$log" env OC_URL="ws://127.0.0.1:$OC_PORT" OC_TOKEN="$TOKEN" "$NODE" "$WORK/ocpeer.cjs" node "$@"
  SN_PG=$LAST_PG
  wait_for 60 grep -q '"event":"hello"' "$VW/$log.log" || { SN_ID=""; return 1; }
  SN_ID=$(jq -r 'select(.event=="hello") | .nodeId' "$VW/$log.log" | head -1)
}

# pending_has N: pairdeck lists at least N pending requests.
pending_has() { [ "$(pd pending --count 2>/dev/null || echo 0)" -ge "$1" ]; }

client_direction() {
  OC_PORT=${PORTS[2]}
  local PX_PORT=${PORTS[3]}
  local GW=$VW/oc-gw
  log "client direction: pairdeck -> OpenClaw $V gateway (127.0.0.1:$OC_PORT, via recording proxy :$PX_PORT)"
  if ! start_oc_gateway; then
    fail "client: the OpenClaw gateway starts on 127.0.0.1:$OC_PORT" "$(tail -20 "$VW/oc-gateway.log")"
    return
  fi
  pass "client: the OpenClaw gateway starts on 127.0.0.1:$OC_PORT"
  start proxy2 "$NODE" "$WORK/wsproxy.cjs" "$PX_PORT" "ws://127.0.0.1:$OC_PORT" "$VW/d2-frames.jsonl"
  wait_port "$PX_PORT" 15 || { fail "client: recording proxy starts" "$(cat "$VW/proxy2.log")"; return; }
  URL=ws://127.0.0.1:$PX_PORT
  PDS=$VW/pd-cli
  mkdir -p "$PDS"
  # 2026.4's CLI keeps its device identity in a file pairdeck shares.
  if [ -f "$VW/oc-cli/state/identity/device.json" ]; then
    mkdir -p "$PDS/identity" && cp "$VW/oc-cli/state/identity/device.json" "$PDS/identity/device.json"
  fi
  pd() { stalled pdonce "$@"; }
  pdonce() { env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_STATE_DIR NO_COLOR=1 \
           timeout 90 "$PAIRDECK" nodes "$@" --state-dir "$PDS" --url "$URL" --token-file "$TOKEN_FILE"; }
  # verify's --token-file is the node's token: the operator token comes
  # from the environment there.
  pdverify() { env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_PASSWORD -u OPENCLAW_STATE_DIR NO_COLOR=1 OPENCLAW_GATEWAY_TOKEN="$TOKEN" \
           timeout 90 "$PAIRDECK" nodes verify "$@" --state-dir "$PDS" --url "$URL"; }

  runq R pd pending --json
  check "client: pairdeck attaches (protocol 3..4 offered) and lists an empty queue (exit $R_RC)" "$R" 'type=="array" and length==0' "$R_ERR"
  local PROTO; PROTO=$(jq -r 'select(.dir=="s2c" and .frame.type=="res" and .frame.ok==true and .frame.payload.type=="hello-ok") | .frame.payload.protocol' "$VW/d2-frames.jsonl" | head -1)
  local DEVMODEL=0
  offers node.pair.request || DEVMODEL=1
  echo "     gateway protocol $PROTO; pairing model: $([ $DEVMODEL = 1 ] && echo "device pairing (2026.8+)" || echo "node.pair.request")"

  # ---- seed: three requests (one with permissions where taken, one exec-class)
  local NA NB NC NE=""
  if [ $DEVMODEL = 0 ]; then
    runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-a","displayName":"Alpha","platform":"linux","caps":["system"],"commands":["system.notify"]}'
    [ "$R_RC" = 0 ] || { fail "client: seed a request with the peer's CLI" "$R $R_ERR"; return; }
    runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-b","displayName":"Bravo","permissions":{"camera":true,"screen":false}}'
    if [ "$R_RC" != 0 ] && has "$R_ERR$R" permissions; then # 2026.4 takes no permissions
      runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-b","displayName":"Bravo"}'
    fi
    runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-c","displayName":"Charlie","platform":"linux","caps":["system"],"commands":["system.run"]}'
    NA=ic-a NB=ic-b NC=ic-c
  else
    scripted_node Alpha system system.notify '{"camera":true,"screen":false}' || { fail "client: a scripted node connects" "$(cat "$VW/node-Alpha.log")"; return; }
    NA=$SN_ID; ALPHA_LOG=$VW/node-Alpha.log
    scripted_node Bravo "" "" && NB=$SN_ID
    scripted_node Charlie system system.run && NC=$SN_ID
    runq R env OC_URL="ws://127.0.0.1:$OC_PORT" OC_TOKEN="$TOKEN" "$NODE" "$WORK/ocpeer.cjs" device Echo "$VW/echo.key"
    check "client: (setup) a device from a browser origin waits for pairing" "$R" '.requestId|type=="string"' "$R_ERR"
    NE=$(printf '%s' "$R" | jq -r '.deviceId // empty')
  fi
  local WANT=3; [ $DEVMODEL = 1 ] && WANT=4
  wait_for 30 pending_has $WANT || true

  runq R pd pending --json
  local PJ=$R RA RB RC RE
  RA=$(idof "$PJ" Alpha); RB=$(idof "$PJ" Bravo); RC=$(idof "$PJ" Charlie); RE=$(idof "$PJ" Echo)
  check "client: nodes pending --json lists every request, each with its kind (exit $R_RC)" "$PJ" \
    "length==$WANT and ([.[]|select(.kind==\"node\")|.displayName]|sort)==[\"Alpha\",\"Bravo\",\"Charlie\"]" "$R_ERR"
  if [ $DEVMODEL = 0 ]; then
    check "client: node requests expire at ts + 5 min, the release's rule" "$PJ" 'all(.[]; .expiresAtMs == .ts + 300000)'
  else
    check "client: no expiry is made up (the release gives none)" "$PJ" 'all(.[]; has("expiresAtMs")|not)'
    check "client: a device pairing request is in the same queue, with its reason" "$PJ" \
      "map(select(.displayName==\"Echo\"))[0] | .kind==\"device\" and .reason==\"not-paired\" and .role==\"operator\" and .scopes==[\"operator.read\"] and .nodeId==\"$NE\""
    check "client: the node's declared permissions and client ids are kept" "$PJ" \
      'map(select(.displayName=="Alpha"))[0] | .permissions.camera==true and .clientId=="node-host" and .clientMode=="node"'
  fi
  check "client: requiredApproveScopes of an exec-class request" "$PJ" \
    'map(select(.displayName=="Charlie"))[0].requiredApproveScopes==["operator.pairing","operator.admin"]'
  if [ -f "$PDS/identity/device.json" ] && [ -f "$VW/oc-cli/state/identity/device.json" ]; then
    local OC_DEV; OC_DEV=$(jq -r .deviceId "$PDS/identity/device.json")
    if grep -q "\"id\":\"$OC_DEV\"" "$VW/d2-frames.jsonl" 2>/dev/null; then pass "client: pairdeck signs with the identity file the OpenClaw CLI wrote"
    else fail "client: pairdeck signs with the identity file the OpenClaw CLI wrote" "device id $OC_DEV not in pairdeck's connect"; fi
  fi
  runq R pd pending --count
  check "client: nodes pending --count" "$R" ". == $WANT" "$R_ERR"
  runq R pd pending
  local row; row=$(printf '%s\n' "$R" | grep "Alpha" || true)
  if [ $DEVMODEL = 0 ]; then
    expect "client: nodes pending (table): KIND column, a countdown from ts + 5 min" \
      "$( { has "$R" KIND && grep -qE '^[^ ]+ +node ' <<<"$row" && grep -qE '(4:[0-5][0-9]|5:00)$' <<<"$row" ; } && echo 0 || echo 1)" "$R $R_ERR"
  else
    expect "client: nodes pending (table): KIND column, no expiry (-), how long it has waited" \
      "$( { grep -qE '^[^ ]+ +node ' <<<"$row" && grep -qE '(now|[0-9]+(s|m) ago) +-$' <<<"$row" && [[ $(grep "Echo" <<<"$R") == *"device (new)"* ]]; } && echo 0 || echo 1)" "$R $R_ERR"
  fi

  # ---- --watch --json: the snapshot, then the release's events
  start watch env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR \
    "$PAIRDECK" nodes pending --watch --json --state-dir "$PDS" --url "$URL" --token-file "$TOKEN_FILE"
  local WPG=$LAST_PG
  snapshots() { [ "$(grep -c '"snapshot":true' "$VW/watch.log" 2>/dev/null)" -ge "$WANT" ]; }
  wait_for 20 snapshots || true
  local RW="" WPGN=""
  if [ $DEVMODEL = 0 ]; then
    runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-w","displayName":"Watcher"}'
    RW=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  else
    scripted_node Watcher "" "" && WPGN=$SN_PG
    wait_for 20 grep -q '"displayName":"Watcher"' "$VW/watch.log" || true
    RW=$(grep '"displayName":"Watcher"' "$VW/watch.log" | head -1 | jq -r '.payload.requestId // empty' 2>/dev/null || true)
  fi
  runq R ocg nodes reject "${RW:-none}" --json
  wait_for 20 grep -q '"node.pair.resolved"' "$VW/watch.log" || true
  kill -INT -- "-$WPG" 2>/dev/null || true
  [ -n "$WPGN" ] && stop "$WPGN"
  sleep 0.5
  local WL; WL=$(grep '^{' "$VW/watch.log" | jq -sc . 2>/dev/null || echo null)
  check "client: nodes pending --watch --json: a snapshot line per pending request" "$WL" \
    "[.[]|select(.snapshot==true and .event==\"node.pair.requested\")]|length==$WANT" "$(cat "$VW/watch.log")"
  check "client: nodes pending --watch --json: the release's requested and resolved events, with their kind" "$WL" \
    "([.[]|select(.event==\"node.pair.requested\" and (.snapshot|not) and .payload.requestId==\"$RW\" and .payload.kind==\"node\")]|length==1) and ([.[]|select(.event==\"node.pair.resolved\" and .payload.requestId==\"$RW\" and .payload.decision==\"rejected\")]|length==1)"
  if [ $DEVMODEL = 0 ]; then
    check "client: nodes pending --watch --json: requested payloads expire at ts + 5 min" "$WL" \
      'all(.[]|select(.event=="node.pair.requested")|.payload; .expiresAtMs == .ts + 300000)'
  else
    check "client: nodes pending --watch --json: no expiry made up in events" "$WL" \
      'all(.[]|select(.event=="node.pair.requested")|.payload; has("expiresAtMs")|not)'
  fi

  # ---- approve / reject
  local TA="" TC=""
  if [ $DEVMODEL = 0 ]; then
    runq R pd approve "$RA" --json
    check "client: nodes approve (exit $R_RC): the node token the release issued, shown once" "$R" \
      ".requestId==\"$RA\" and .node.nodeId==\"$NA\" and .kind==\"node\" and (.node.token|type==\"string\" and length>=32) and (has(\"noToken\")|not)" "$R_ERR"
    TA=$(printf '%s' "$R" | jq -r '.node.token // empty' 2>/dev/null || true)
    runq R ocg gateway call node.pair.verify --json --params "{\"nodeId\":\"$NA\",\"token\":\"${TA:-none}\"}"
    check "client: the release verifies the token pairdeck's approve returned" "$R" '.ok==true' "$R_ERR"
    (umask 077 && printf '%s\n' "${TA:-none}" >"$VW/alpha.token")
    runq R pdverify --node Alpha --token-file "$VW/alpha.token"
    expect "client: nodes verify --node <name> with the token (exit $R_RC)" "$( [ "$R_RC" = 0 ] && has "$R" "Token is valid for Alpha" && echo 0 || echo 1)" "$R $R_ERR"
    runq R pd approve "$RC"
    expect "client: nodes approve (text) of an exec-class request: the token once, and that nodes sign in with device tokens" \
      "$( [ "$R_RC" = 0 ] && has "$R" "Approved Charlie" "Token (shown once" "sign in with their device token" && lacks "$R" "pass it on" && echo 0 || echo 1)" "$R $R_ERR"
    TC=$(printf '%s\n' "$R" | sed -n 's/^  \([A-Za-z0-9_-]\{32,\}\)$/\1/p' | head -1)
  else
    runq R pd approve "$RA"
    expect "client: nodes approve (text): what happened, no token (exit $R_RC)" \
      "$( [ "$R_RC" = 0 ] && has "$R" "Approved Alpha" "its commands are approved, and the node continues with its device token" "permissions  camera" &&
          lacks "$R" "Token (shown once" "pass it on" "token handed over" "node connect --token-file" && echo 0 || echo 1)" "$R $R_ERR"
    wait_for 15 grep -q '"node.pair.resolved".*"approved"' "$ALPHA_LOG" || true
    expect "client: the approved node hears it on its own socket (node.pair.resolved approved)" \
      "$(grep -q '"node.pair.resolved".*"approved"' "$ALPHA_LOG" && echo 0 || echo 1)" "$(cat "$ALPHA_LOG")"
    runq R pd approve "$RC" --json
    check "client: nodes approve --json of an exec-class request (needs operator.admin): noToken, every field" "$R" \
      ".requestId==\"$RC\" and .kind==\"node\" and .noToken==\"node-uses-device-token\" and (.node|has(\"token\")|not) and .node.clientId==\"node-host\"" "$R_ERR"
    runq R ocg nodes status --json
    check "client: the release's own view: Alpha and Charlie approved" "$(jsonpart "$R")" \
      "(.nodes|map(select(.nodeId==\"$NA\" or .nodeId==\"$NC\"))|map(.approvalState)) == [\"approved\",\"approved\"]" "$R_ERR"
  fi
  runq R pd reject "$RB"
  expect "client: nodes reject (exit $R_RC)" "$( [ "$R_RC" = 0 ] && has "$R" "Rejected request $RB" && echo 0 || echo 1)" "$R $R_ERR"
  runq R pd reject "$RB" --json
  expect "client: rejecting it again: exit 1, said in words with the release's own message" \
    "$( [ "$R_RC" = 1 ] && [ -z "$R" ] && has "$R_ERR" "unknown requestId" "decided, superseded" && echo 0 || echo 1)" "exit $R_RC; stdout: $R; stderr: $R_ERR"
  if [ $DEVMODEL = 1 ]; then
    runq R pd approve "$RE"
    expect "client: nodes approve of a device request: the device gets its token when it next connects" \
      "$( [ "$R_RC" = 0 ] && has "$R" "Approved device Echo" "as operator (operator.read)" "the device gets its token from the gateway when it next connects" &&
          lacks "$R" "Token (shown once" && echo 0 || echo 1)" "$R $R_ERR"
    runq R env OC_URL="ws://127.0.0.1:$OC_PORT" OC_TOKEN="$TOKEN" "$NODE" "$WORK/ocpeer.cjs" device Echo "$VW/echo.key"
    check "client: the approved device is let in with its device token" "$R" '.paired==true and .deviceToken==true' "$R_ERR"
    runq R env OC_URL="ws://127.0.0.1:$OC_PORT" OC_TOKEN="$TOKEN" "$NODE" "$WORK/ocpeer.cjs" device Foxtrot "$VW/foxtrot.key"
    local RF; RF=$(printf '%s' "$R" | jq -r '.requestId // empty')
    runq R pd reject "${RF:-none}"
    expect "client: nodes reject of a device request says so" "$( [ "$R_RC" = 0 ] && has "$R" "Rejected device pairing request $RF" && echo 0 || echo 1)" "$R $R_ERR"
  fi
  runq R ocg nodes pending --json
  check "client: the release's own view: nothing pending after approve, approve, reject" "$(jsonpart "$R")" \
    '(if type=="array" then . else .pending end)|length==0' "$R_ERR"

  # ---- rename
  runq R pd rename --node Alpha --name "Living Room" --json
  check "client: nodes rename --node <name> (exit $R_RC)" "$R" ".nodeId==\"$NA\" and .displayName==\"Living Room\"" "$R_ERR"
  runq R pd rename --node "$NA" --name "Kitchen" --json
  check "client: nodes rename --node <id>" "$R" ".nodeId==\"$NA\" and .displayName==\"Kitchen\"" "$R_ERR"
  runq R ocg nodes status --json
  check "client: the release's own view shows the new name" "$(jsonpart "$R")" ".nodes|map(select(.nodeId==\"$NA\"))[0].displayName==\"Kitchen\"" "$R_ERR"
  local NG=""
  if [ $DEVMODEL = 0 ]; then
    runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-g","displayName":"Golf","platform":"linux"}'
    NG=ic-g
  else
    scripted_node Golf system system.notify && NG=$SN_ID
    wait_for 20 pending_has 1 || true
  fi
  runq R pd rename --node Golf --name "Golf 2"
  expect "client: renaming a node that only asks: one line, said why (exit $R_RC)" \
    "$( [ "$R_RC" = 1 ] && [ "$(printf '%s\n' "$R_ERR" | wc -l)" = 1 ] && has "$R_ERR" "renames paired nodes only" && lacks "$R_ERR" "unknown nodeId" "unknown method" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"

  # ---- status / list
  runq R pd status --json
  if [ $DEVMODEL = 1 ]; then
    check "client: nodes status --json: each node's approval state, as the release says it (exit $R_RC)" "$R" \
      "(.nodes|map(select(.nodeId==\"$NA\"))[0] | .approvalState==\"approved\" and .displayName==\"Kitchen\") and (.nodes|map(select(.nodeId==\"$NG\"))[0] | .approvalState==\"pending-approval\" and (.pendingRequestId|type==\"string\")) and (.nodes|map(select(.nodeId==\"$NB\"))[0].approvalState==\"unapproved\")" "$R_ERR"
  else
    check "client: nodes status --json (exit $R_RC)" "$R" \
      "(.ts|type==\"number\") and (.nodes|map(select(.nodeId==\"$NA\"))[0] | .paired==true and .displayName==\"Kitchen\")" "$R_ERR"
  fi
  runq R pd status
  # (2026.4's node.list lists only nodes with a device: a request filed
  # by an operator's call, as Golf's, is not among them.)
  local grow krow; grow=$(grep "^Golf " <<<"$R" || true); krow=$(grep "^Kitchen " <<<"$R" || true)
  expect "client: nodes status (table): an APPROVAL column; a node whose commands wait says pending" \
    "$( has "$R" "APPROVAL" "Awaiting approval:" && [[ $krow == *" approved "* ]] && { [ -z "$grow" ] && ! ver_ge "$V" 2026.7.0 || [[ $grow == *" pending "* ]]; } && echo 0 || echo 1)" "$R $R_ERR"
  runq R pd list --json
  check "client: nodes list --json: pending and paired, no tokens (exit $R_RC)" "$R" \
    "(.pending|map(.nodeId)|index(\"$NG\")) and (.paired|map(.nodeId)|index(\"$NA\")) and ([.paired[]|has(\"token\") or has(\"tokenSha256\")]|any|not)" "$R_ERR"
  runq L pd list
  runq S pd status
  runq P pd pending
  if [ -n "$TA$TC" ] && grep -qF -e "${TA:-x}" -e "${TC:-x}" <<<"$(printf '%s\n' "$L" "$S" "$P")" ; then
    fail "client: no node token in pairdeck's list/status/pending output"
  else pass "client: no node token in pairdeck's list/status/pending output"; fi

  # Pointed at the release's own state dir, with no --url and no token,
  # pairdeck finds its gateway through openclaw.json (port and token) and
  # acts through it; serve refuses to become a second owner; nothing of
  # pairdeck's lands in the dir.
  local own=(env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PORT -u OPENCLAW_GATEWAY_PASSWORD
             HOME="$GW/home" OPENCLAW_STATE_DIR="$GW/state" NO_COLOR=1 timeout 60 "$PAIRDECK")
  local paired
  runq R pd list --json
  paired=$(printf '%s' "$R" | jq -c '[.paired[].nodeId]|sort' 2>/dev/null || echo '"?"')
  runq R "${own[@]}" nodes list --json -v
  expect "client: pairdeck on the release's state dir attaches to its gateway by itself" \
    "$( [ "$R_RC" = 0 ] && has "$R_ERR" "from the OpenClaw gateway at ws://127.0.0.1:$OC_PORT (it owns $GW/state" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"
  check "client: ... and lists what the release holds" "$R" "([.paired[].nodeId]|sort)==$paired" "$R_ERR"
  runq R "${own[@]}" serve
  expect "client: pairdeck serve on the release's state dir refuses, naming its gateway" \
    "$( [ "$R_RC" = 1 ] && has "$R_ERR" "owns $GW/state" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"
  local stray; stray=$(cd "$GW/state" && ls -d nodes/.lock nodes/audit.jsonl nodes/journal.* pairdeck 2>/dev/null || true)
  expect "client: nothing of pairdeck's written into the release's state dir" "$( [ -z "$stray" ] && echo 0 || echo 1)" "$stray"

  # ---- what the release does not offer
  if offers node.pair.remove; then
    runq R pd remove --node Kitchen --json
    check "client: nodes remove --node <name> (exit $R_RC)" "$R" ".nodeId==\"$NA\"" "$R_ERR"
    runq R ocg nodes status --json
    check "client: the release's own view: the removed node's commands are gone" "$(jsonpart "$R")" \
      "(.nodes|map(select(.nodeId==\"$NA\" and .approvalState==\"approved\" and (.caps|length>0)))|length==0)" "$R_ERR"
  else
    runq R pd remove --node Kitchen
    expect "client: nodes remove where the release has no node.pair.remove: one line, before anything else" \
      "$( [ "$R_RC" = 1 ] && [ "$(printf '%s\n' "$R_ERR" | wc -l)" = 1 ] && has "$R_ERR" "does not offer node.pair.remove" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"
  fi
  if ! offers node.pair.verify; then
    (umask 077 && echo whatever >"$VW/some.token")
    runq R pdverify --node Golf --token-file "$VW/some.token"
    expect "client: nodes verify where the release has none: one line" \
      "$( [ "$R_RC" = 1 ] && [ "$(printf '%s\n' "$R_ERR" | wc -l)" = 1 ] && has "$R_ERR" "has no node.pair.verify" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"
  fi
  (umask 077 && echo "not-the-token" >"$VW/wrong.token")
  runq R env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR timeout 90 "$PAIRDECK" nodes pending --state-dir "$PDS" --url "$URL" --token-file "$VW/wrong.token"
  expect "client: a wrong token: one line saying it does not match, and where the token comes from" \
    "$( [ "$R_RC" = 1 ] && [ -z "$R" ] && [ "$(printf '%s\n' "$R_ERR" | wc -l)" = 1 ] && has "$R_ERR" "does not match" "OPENCLAW_GATEWAY_TOKEN" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"
  runq R pd blocked
  expect "client: nodes blocked (a pairdeck feature): one line, never a raw unknown method" \
    "$( [ "$R_RC" = 1 ] && [ "$(printf '%s\n' "$R_ERR" | wc -l)" = 1 ] && has "$R_ERR" "block list" && lacks "$R_ERR" "unknown method" && echo 0 || echo 1)" "exit $R_RC; $R_ERR"

  node_client_checks
  if [ "$CONSOLE" = 1 ]; then
    case $V in 2026.4.*) console_expiry_checks ;; esac
    console_approve_checks
  fi

  frame_checks "$VW/d2-frames.jsonl" client "client: "
  "$NODE" "$WORK/frames.cjs" "$VW/d2-frames.jsonl" summary >"$VW/d2-summary.jsonl" || true
  local logs; logs=$(find "$PDS" "$VW/pd-console" -name '*.log' 2>/dev/null || true)
  if [ -n "$logs" ] && [ -n "$TA$TC" ] && grep -qF -e "${TA:-x}" -e "${TC:-x}" $logs; then
    fail "client: no node token in pairdeck's log files" "$(grep -lF -e "${TA:-x}" -e "${TC:-x}" $logs)"
  else pass "client: no node token in pairdeck's log files"; fi
}

# The console against 2026.4, whose node requests expire 5 minutes after ts
# without any event: countdowns from ts + 5 min, rows dropped by the console
# itself, a silently refreshed request brought back by a re-list, and never a
# token from the release's lists on screen or in the log.
console_expiry_checks() {
  local GW=$VW/oc-gw PEND=$VW/oc-gw/state/nodes/pending.json
    local EXP_ID; EXP_ID=$(cat /proc/sys/kernel/random/uuid)
  # 30 s left: enough for the console to start and show them on a busy machine.
  local TS=$(( $(now_ms) - 270000 ))
  local REF_ID; REF_ID=$(cat /proc/sys/kernel/random/uuid)
  jq --arg id "$EXP_ID" --arg ref "$REF_ID" --argjson ts "$TS" \
    '.[$id] = {requestId:$id, nodeId:"ic-old", displayName:"Old Timer", platform:"linux", silent:false, ts:$ts}
     | .[$ref] = {requestId:$ref, nodeId:"ic-ref", displayName:"Refresher", platform:"linux", silent:false, ts:$ts}' \
    "$PEND" >"$PEND.tmp" && mv "$PEND.tmp" "$PEND"
  runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-new","displayName":"Newcomer","platform":"linux"}'
  local NEW_ID; NEW_ID=$(printf '%s' "$R" | jq -r '.request.requestId // empty' 2>/dev/null || true)
  local EXPIRES_AT=$(( TS + 300000 ))

  mkdir -p "$VW/pd-console"
  local cmd
  printf -v cmd 'env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR TERM=xterm-256color %q console --url %q --token-file %q --state-dir %q 2>%q; sleep 600' \
    "$PAIRDECK" "$URL" "$TOKEN_FILE" "$VW/pd-console" "$VW/console.stderr"
  tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s interop -x 140 -y 36 "$cmd"
  local pane="" deadline=$((SECONDS + 20))
  while [ $SECONDS -lt $deadline ]; do
    pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t interop 2>/dev/null || true)
    if grep -q "Newcomer" <<<"$pane" && grep -q "Old Timer" <<<"$pane" ; then break; fi
    sleep 0.5
  done
  printf '%s\n' "$pane" >"$VW/console-1.txt"
  if grep -q "Newcomer" <<<"$pane" && grep -q "Old Timer" <<<"$pane" ; then pass "console: lists the peer's pending requests"
  else fail "console: lists the peer's pending requests" "$pane$(tail -5 "$VW/console.stderr" 2>/dev/null)"; fi
  local oldline newline
  oldline=$(printf '%s\n' "$pane" | grep "Old Timer" | head -1 || true)
  newline=$(printf '%s\n' "$pane" | grep "Newcomer" | head -1 || true)
  if grep -qE '0:([0-2][0-9]|30)' <<<"$oldline" ; then pass "console: countdown from ts + 5 min (old request: under 0:30)"
  else fail "console: countdown from ts + 5 min (old request: under 0:30)" "$oldline"; fi
  if grep -qE '(4:[0-5][0-9]|5:00)' <<<"$newline" ; then pass "console: countdown from ts + 5 min (fresh request: about 5:00)"
  else fail "console: countdown from ts + 5 min (fresh request: about 5:00)" "$newline"; fi

  # The node behind "Refresher" asks again: the peer keeps the requestId,
  # restarts its 5 minutes (ts) and sends no event, so only a re-list can
  # tell the console.
  runq R ocg gateway call node.pair.request --json --params '{"nodeId":"ic-ref","displayName":"Refresher"}'
  local REFRESHED=0
  printf '%s' "$R" | jq -e ".created==false and .request.requestId==\"$REF_ID\"" >/dev/null 2>&1 && REFRESHED=1
  check "console: (setup) the peer refreshes a request silently, same requestId, created=false" "$R" \
    ".created==false and .request.requestId==\"$REF_ID\"" "created=true means the planted request had expired before the console showed it: machine too busy? $R_ERR"

  # Wait past the expiry (+ the console's grace) and look again.
  local wait_s=$(( (EXPIRES_AT - $(now_ms)) / 1000 + 6 ))
  [ "$wait_s" -gt 0 ] && sleep "$wait_s"
  pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t interop 2>/dev/null || true)
  printf '%s\n' "$pane" >"$VW/console-2.txt"
  if ! grep -q "Old Timer" <<<"$pane" && grep -q "Newcomer" <<<"$pane" ; then
    pass "console: drops the expired row itself (the peer sends no expiry event)"
  else fail "console: drops the expired row itself (the peer sends no expiry event)" "$pane"; fi
  local refline; refline=$(printf '%s\n' "$pane" | grep "Refresher" | head -1 || true)
  if [ "$REFRESHED" = 1 ] && grep -qE '4:[0-5][0-9]' <<<"$refline" ; then
    pass "console: a request the peer refreshed silently is back after the re-list, with its new countdown"
  else fail "console: a request the peer refreshed silently is back after the re-list, with its new countdown" "row: '${refline}'
$pane"; fi
  # It must have asked the peer again after the expiry.
  local relists
  relists=$(jq -s --argjson t "$EXPIRES_AT" --arg dev "$(jq -r .deviceId "$VW/pd-console/identity/device.json" 2>/dev/null)" '
    (map(select(.dir=="c2s" and .frame.method=="connect" and .frame.params.device.id==$dev) | .conn)) as $cs
    | map(select(.dir=="c2s" and .frame.method=="node.pair.list" and (.conn as $c | $cs | index($c)) and .t > $t)) | length' \
    "$VW/d2-frames.jsonl" 2>/dev/null || echo 0)
  if [ "${relists:-0}" -ge 1 ]; then pass "console: re-lists after expiring a row ($relists node.pair.list after the expiry)"
  else fail "console: re-lists after expiring a row" "no node.pair.list from the console's connection after $EXPIRES_AT"; fi

  # The Paired view: names, never the tokens the peer's list carries.
  tmux -L "$TMUX_SOCK" send-keys -t interop Tab
  sleep 1.5
  pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t interop 2>/dev/null || true)
  printf '%s\n' "$pane" >"$VW/console-3.txt"
  if grep -q "Kitchen" <<<"$pane" ; then pass "console: Paired view shows the peer's paired nodes"
  else fail "console: Paired view shows the peer's paired nodes" "$pane"; fi
  local toks; toks=$(jq -r '.[].token // empty' "$VW/oc-gw/state/nodes/paired.json" 2>/dev/null || true)
  local leaked=0 t f
  for t in $toks; do
    for f in "$VW"/console-*.txt "$VW/pd-console"/pairdeck/*.log "$VW/console.stderr"; do
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

# pairdeck's own node side against the release: `node pair` pairs through
# device pairing with the shared token (2026.8+ then waits for the approval
# of the node's commands on its own socket; 2026.4/2026.7 never tell the
# node, so it ends once its device token is stored), and `node connect`
# signs in with the device token.
node_client_checks() {
  local ND=$VW/pd-node
  mkdir -p "$ND"
  start node-pair env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_STATE_DIR -u OPENCLAW_GATEWAY_PASSWORD OPENCLAW_GATEWAY_TOKEN="$TOKEN" \
    "$PAIRDECK" node pair --node-dir "$ND" --state-dir "$ND" --url "$URL" --name "PD Node" --caps system --commands system.notify --json --wait 120s
  local NPPG=$LAST_PG NCPG=""
  wait_for 60 grep -q '"event":"\(pending\|paired\|failed\|timed-out\)"' "$VW/node-pair.log" || true
  local NL; NL=$(grep '^{' "$VW/node-pair.log" | jq -sc . 2>/dev/null || echo null)
  check "node: pairdeck node pair connects with the shared token and keeps the device token it is given" "$NL" \
    "map(select(.event==\"pending\"))[0] | .kind==\"node\" and .stateFile==\"$ND/node.json\" and (.hint|test(\"openclaw nodes approve\"))" "$(cat "$VW/node-pair.log")"
  local NID; NID=$(printf '%s' "$NL" | jq -r 'map(select(.event=="pending"))[0].nodeId // empty' 2>/dev/null || true)
  check "node: node.json holds the device token (role node) and the declared surface, mode 0600" \
    "$(jq -c --arg m "$(stat -c %a "$ND/node.json" 2>/dev/null)" '. + {mode: $m}' "$ND/node.json" 2>/dev/null || echo null)" \
    ".mode==\"600\" and (.deviceToken|type==\"string\" and length>20) and .role==\"node\" and .nodeId==\"$NID\" and (has(\"token\")|not) and .commands==[\"system.notify\"]"
  local prc=""
  node_connect() {
    start node-connect env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_STATE_DIR -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_GATEWAY_PASSWORD \
      "$PAIRDECK" node connect --node-dir "$ND" --state-dir "$ND" --url "$URL"
    NCPG=$LAST_PG
    wait_for 30 grep -q '^connected: ' "$VW/node-connect.log" || true
    expect "node: node connect signs in with the stored device token" "$(grep -q '^connected: ' "$VW/node-connect.log" && echo 0 || echo 1)" "$(cat "$VW/node-connect.log")"
  }
  if [ $DEVMODEL = 0 ]; then
    prc=0; wait "$NPPG" || prc=$?
    NL=$(grep '^{' "$VW/node-pair.log" | jq -sc . 2>/dev/null || echo null)
    check "node: node pair ends (exit $prc): paired, its commands awaiting an approval the release does not tell the node" "$NL" \
      '.[-1] | .event=="paired" and .commandsPending==true'
    node_connect # connected while its commands wait
  fi
  node_online() { pd status --json 2>/dev/null | jq -e --arg n "$NID" '.nodes|map(select(.nodeId==$n and .connected==true))|length==1' >/dev/null; }
  wait_for 20 node_online || true
  runq R pd status
  local nrow; nrow=$(grep "^PD Node " <<<"$R" || true)
  expect "node: nodes status while its commands wait: online, approval pending (not just paired and online)" \
    "$( [[ $nrow == *" online "* && $nrow == *" pending "* ]] && echo 0 || echo 1)" "$R $R_ERR"
  runq R pd pending --json
  local RN; RN=$(printf '%s' "$R" | jq -r --arg n "$NID" 'map(select(.nodeId==$n))[0].requestId // empty' 2>/dev/null || true)
  check "node: the release filed a request for the node's commands, in pairdeck's queue" "$R" \
    "map(select(.nodeId==\"$NID\"))[0] | .kind==\"node\" and .displayName==\"PD Node\"" "$R_ERR"
  runq R pd approve "${RN:-none}"
  expect "node: approved from pairdeck (exit $R_RC)" "$( [ "$R_RC" = 0 ] && has "$R" "Approved PD Node" && echo 0 || echo 1)" "$R $R_ERR"
  if [ $DEVMODEL = 1 ]; then
    prc=0; wait "$NPPG" || prc=$?
    NL=$(grep '^{' "$VW/node-pair.log" | jq -sc . 2>/dev/null || echo null)
    check "node: node pair hears the approval on its own socket and ends (exit $prc)" "$NL" '.[-1].event=="approved"' "$(cat "$VW/node-pair.log")"
    check "node: node.json says the commands were approved" "$(cat "$ND/node.json" 2>/dev/null || echo null)" '.approval=="approved"'
    node_connect
  fi
  node_approved() { pd status --json 2>/dev/null | jq -e --arg n "$NID" '.nodes|map(select(.nodeId==$n and .connected==true and ((.approvalState // "approved")=="approved")))|length==1' >/dev/null; }
  wait_for 20 node_approved || true
  runq R pd status --json
  check "node: nodes status shows the node connected, its commands approved" "$R" \
    ".nodes|map(select(.nodeId==\"$NID\"))[0] | .connected==true and .paired==true and ((.approvalState // \"approved\")==\"approved\")" "$R_ERR"
  [ -n "$NCPG" ] && stop "$NCPG"
}

# The console in tmux, attached to the release's gateway: a request appears
# (on 2026.8+ a real `openclaw node run` node host's), is picked with the
# filter and approved with one key, and the release then shows it approved.
console_approve_checks() {
  local name="Console Pick" sess="approve"
  mkdir -p "$VW/pd-console"
  local cmd
  printf -v cmd 'env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_TOKEN -u OPENCLAW_STATE_DIR TERM=xterm-256color %q console --url %q --token-file %q --state-dir %q 2>%q; sleep 600' \
    "$PAIRDECK" "$URL" "$TOKEN_FILE" "$VW/pd-console" "$VW/console-approve.stderr"
  tmux -L "$TMUX_SOCK" -f /dev/null new-session -d -s "$sess" -x 160 -y 40 "$cmd"
  local pane="" HOST_ID=""
  if [ $DEVMODEL = 1 ]; then
    mkdir -p "$VW/node-host/state" "$VW/node-host/home"
    start node-host env -u OPENCLAW_GATEWAY_URL -u OPENCLAW_GATEWAY_PASSWORD HOME="$VW/node-host/home" OPENCLAW_STATE_DIR="$VW/node-host/state" \
      OPENCLAW_GATEWAY_TOKEN="$TOKEN" OPENCLAW_SKIP_CHANNELS=1 OPENCLAW_DISABLE_BONJOUR=1 NO_COLOR=1 \
      "$NODE" "$OPENCLAW_MJS" node run --host 127.0.0.1 --port "$OC_PORT" --display-name "$name"
  else
    runq R ocg gateway call node.pair.request --json --params "{\"nodeId\":\"ic-pick\",\"displayName\":\"$name\",\"platform\":\"linux\"}"
  fi
  wait_for 150 bash -c "tmux -L '$TMUX_SOCK' capture-pane -p -t '$sess' 2>/dev/null | grep -q '$name'" || true
  pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t "$sess" 2>/dev/null || true)
  printf '%s\n' "$pane" >"$VW/console-approve-1.txt"
  local what="a request"; [ $DEVMODEL = 1 ] && what="a real openclaw node run host's request"
  expect "console: attached in tmux, the release's queue shows $what" \
    "$(has "$pane" "$name" && echo 0 || echo 1)" "$pane$(tail -5 "$VW/console-approve.stderr" 2>/dev/null)$( [ $DEVMODEL = 1 ] && tail -5 "$VW/node-host.log")"
  # Pick it with the filter, then one key.
  tmux -L "$TMUX_SOCK" send-keys -t "$sess" /
  sleep 0.5
  tmux -L "$TMUX_SOCK" send-keys -t "$sess" -l "$name"
  tmux -L "$TMUX_SOCK" send-keys -t "$sess" Enter
  sleep 1
  tmux -L "$TMUX_SOCK" send-keys -t "$sess" a
  sleep 1.5
  tmux -L "$TMUX_SOCK" capture-pane -p -t "$sess" >"$VW/console-approve-flash.txt" 2>/dev/null || true
  if [ $DEVMODEL = 1 ]; then
    approved_on_gateway() {
      ocg nodes status --json 2>/dev/null | sed -n '/^[[{]/,$p' |
        jq -e --arg n "$name" '.nodes|map(select(.displayName==$n and .approvalState=="approved"))|length==1' >/dev/null
    }
  else
    approved_on_gateway() {
      ocg nodes status --json 2>/dev/null | sed -n '/^[[{]/,$p' |
        jq -e '.nodes|map(select(.nodeId=="ic-pick" and .paired==true))|length==1' >/dev/null
    }
  fi
  wait_for 90 approved_on_gateway || true
  pane=$(tmux -L "$TMUX_SOCK" capture-pane -p -t "$sess" 2>/dev/null || true)
  printf '%s\n' "$pane" >"$VW/console-approve-2.txt"
  runq R ocg nodes status --json
  if [ $DEVMODEL = 1 ]; then
    check "console: one key approved it: the release's node.list (openclaw nodes status) shows the node host approved and connected" "$(jsonpart "$R")" \
      ".nodes|map(select(.displayName==\"$name\"))[0] | .approvalState==\"approved\" and .connected==true and (.commands|length>0)" "$R_ERR
$pane"
  else
    check "console: one key approved it: the release's node.list (openclaw nodes status) shows it paired" "$(jsonpart "$R")" \
      '.nodes|map(select(.nodeId=="ic-pick"))[0].paired==true' "$R_ERR
$pane"
  fi
  runq R pd pending --json
  check "console: the request left the queue" "$R" "map(select(.displayName==\"$name\"))|length==0" "$R_ERR"
  # What the console shows that pairdeck's console engineer is changing:
  # noted, not counted.
  {
    grep -E "$name" "$VW/console-approve-1.txt" | head -1 | sed 's/  */ /g; s/^ *//; s/^/row before: /'
    grep -E "Approved|approved" "$VW/console-approve-flash.txt" | head -2 | sed 's/^ *//; s/^/flash: /'
  } >"$VW/console-notes.txt" 2>/dev/null || true
  tmux -L "$TMUX_SOCK" send-keys -t "$sess" Escape
  tmux -L "$TMUX_SOCK" send-keys -t "$sess" q
  sleep 0.5
  tmux -L "$TMUX_SOCK" kill-session -t "$sess" 2>/dev/null || true
}

# ---------------------------------------------------------------- run
for v in "${VERSIONS[@]}"; do
  setup_version "$v"
  case $DIRECTION in
    serve|all)
      serve_direction ;;
  esac
  stop_all
  case $DIRECTION in client|all) client_direction ;; esac
  tmux -L "$TMUX_SOCK" kill-server >/dev/null 2>&1 || true
  stop_all
  if [ -s "$VW/console-notes.txt" ]; then
    echo "     console, as it shows the release's requests today (not counted):"
    sed 's/^/       /' "$VW/console-notes.txt"
  fi
done

echo
if [ "$FAILED" -gt 0 ]; then
  echo "failed checks:"; printf '  - %s\n' "${FAILS[@]}"
  echo "logs and recorded frames: $WORK/<version>/ (and $WORK/commands.log)"
fi
if [ -s "$WORK/stalls.txt" ]; then
  echo "gateway stalls retried once (the release did not answer a handshake within 10 s):"; sed 's/^/  - /' "$WORK/stalls.txt"
fi
for v in "${VERSIONS[@]}"; do
  echo "interop $v: ${VPASS[$v]:-0} passed, ${VFAIL[$v]:-0} failed"
done
echo "interop: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
