// Records the frames a real OpenClaw gateway sends and expects, for the
// replay fixtures in client/testdata/openclaw/<version>/.
//
// Run by scripts/record-openclaw.sh, which starts the gateway(s); this file
// is the scripted client. Usage (environment):
//   WS_MODULE   path of the peer's own `ws` package
//   OC_URL      ws://127.0.0.1:<port> of a token-auth gateway
//   OC_TOKEN    its shared token
//   OC_PW_URL   ws://127.0.0.1:<port> of a password-auth gateway (optional)
//   OC_PASSWORD its password
//   OC_STARTUP  "1": only the startup scenario (connect while the gateway starts)
//   OUT_DIR     where the scenario files go (one JSONL file each)
//
// Every connection gets a label; every frame in both directions is one JSON
// line {conn, dir: "c2s"|"s2c", t, frame}; closes are {conn, dir:"close",
// by, code, reason}; {step} lines mark what the script did next. Tokens the
// gateway issues are replaced consistently by test-only placeholders when the
// file is written, and the shared secrets given here are test-only values.
"use strict";
const { WebSocket } = require(process.env.WS_MODULE);
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const URL_ = process.env.OC_URL;
const TOKEN = process.env.OC_TOKEN;
const PW_URL = process.env.OC_PW_URL;
const PASSWORD = process.env.OC_PASSWORD;
const OUT = process.env.OUT_DIR;
const ALL_SCOPES = ["operator.admin", "operator.pairing", "operator.read", "operator.write"];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- identities
function newIdentity(name) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  return { name, id: crypto.createHash("sha256").update(raw).digest("hex"), pub: raw.toString("base64url"), privateKey };
}

function signDevice(idn, p, nonce, signedAt) {
  const norm = (s) => (s || "").trim().toLowerCase();
  const token = p.auth?.token ?? p.auth?.deviceToken ?? p.auth?.bootstrapToken ?? "";
  const payload = ["v3", idn.id, p.client.id, p.client.mode, p.role, (p.scopes || []).join(","), String(signedAt), token, nonce,
    norm(p.client.platform), norm(p.client.deviceFamily)].join("|");
  const sig = crypto.sign(null, Buffer.from(payload, "utf8"), idn.privateKey).toString("base64url");
  return { id: idn.id, publicKey: idn.pub, signature: sig, signedAt, nonce };
}

// ---------------------------------------------------------------- recording
class Recorder {
  constructor(scenario) {
    this.scenario = scenario;
    this.lines = [];
    this.t0 = Date.now();
  }
  rec(o) { this.lines.push({ ...o, t: Date.now() - this.t0 }); }
  step(text) { this.lines.push({ step: text, t: Date.now() - this.t0 }); console.log(`  [${this.scenario}] ${text}`); }
  write() {
    const secrets = new Map();
    const placeholder = (kind, v) => {
      if (!secrets.has(v)) secrets.set(v, `test-only-${kind}-${secrets.size + 1}`);
      return secrets.get(v);
    };
    // Tokens the gateway issued (device tokens, node tokens) become
    // consistent placeholders; the shared secrets are test-only already.
    const walk = (o) => {
      if (Array.isArray(o)) return o.map(walk);
      if (!o || typeof o !== "object") return o;
      const out = {};
      for (const [k, v] of Object.entries(o)) {
        if (typeof v === "string" && v && v !== TOKEN && v !== PASSWORD &&
            (k === "deviceToken" || k === "recoveryScope" || (k === "token" && !v.startsWith("test-only")))) out[k] = placeholder(k === "deviceToken" ? "device-token" : k === "recoveryScope" ? "recovery-scope" : "token", v);
        else out[k] = walk(v);
      }
      return out;
    };
    const lines = this.lines.map(walk);
    // A token echoed in a later auth.token (4.12 style) must map the same way.
    const file = path.join(OUT, `${this.scenario}.jsonl`);
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    console.log(`wrote ${file} (${lines.length} lines)`);
  }
}

let reqSeq = 0;
class Conn {
  constructor(rec, label, url, { origin } = {}) {
    this.rec = rec; this.label = label; this.url = url; this.origin = origin;
    this.frames = []; this.waiters = []; this.closed = null;
  }
  open() {
    const headers = this.origin ? { origin: this.origin } : {};
    this.ws = new WebSocket(this.url, { headers, maxPayload: 64 << 20 });
    this.closedP = new Promise((res) => {
      this.ws.on("close", (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        this.rec.rec({ conn: this.label, dir: "close", by: this.closing ? "client" : "server", code, reason: reason.toString() });
        res(this.closed);
        this.wake();
      });
    });
    this.ws.on("message", (d) => {
      const s = d.toString();
      let f; try { f = JSON.parse(s); } catch { f = s; }
      this.rec.rec({ conn: this.label, dir: "s2c", frame: f });
      this.frames.push(f);
      this.wake();
    });
    this.ws.on("error", (e) => { this.error = e; this.wake(); });
    return new Promise((res, rej) => { this.ws.on("open", res); this.ws.on("error", rej); });
  }
  wake() { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
  async waitFor(pred, ms = 15000, what = "frame") {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closed) return null;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no ${what} within ${ms}ms`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, left); });
    }
  }
  send(f) { this.rec.rec({ conn: this.label, dir: "c2s", frame: f }); this.ws.send(JSON.stringify(f)); }
  // connect: waits for the challenge, sends connect, returns the response
  // frame (hello-ok or error) or null when the socket closed first.
  async connect(params, { identity, signedAt } = {}) {
    const ch = await this.waitFor((f) => f.type === "event" && f.event === "connect.challenge", 30000, "challenge");
    if (!ch) return null;
    const p = JSON.parse(JSON.stringify(params));
    if (identity) p.device = signDevice(identity, p, ch.payload.nonce, signedAt ?? ch.payload.ts);
    const id = String(++reqSeq);
    this.send({ type: "req", id, method: "connect", params: p });
    const res = await this.waitFor((f) => f.type === "res" && f.id === id, 30000, "connect response");
    this.hello = res && res.ok ? res.payload : null;
    return res;
  }
  async call(method, params = {}) {
    const id = String(++reqSeq);
    this.send({ type: "req", id, method, params });
    return this.waitFor((f) => f.type === "res" && f.id === id, 30000, `${method} response`);
  }
  event(name, pred = () => true, ms = 15000) {
    return this.waitFor((f) => f.type === "event" && f.event === name && pred(f.payload || {}), ms, `event ${name}`);
  }
  async close() {
    if (this.closed) return;
    this.closing = true;
    this.ws.close(1000, "done");
    await Promise.race([this.closedP, sleep(3000)]);
  }
}

// ---------------------------------------------------------------- params
function operatorParams({ min = 3, max = 4, token = TOKEN, password, deviceToken, scopes = ALL_SCOPES, platform = "linux", deviceFamily, name = "pairdeck recorder" } = {}) {
  const auth = {};
  if (token) auth.token = token;
  if (password) auth.password = password;
  if (deviceToken) auth.deviceToken = deviceToken;
  const p = {
    minProtocol: min, maxProtocol: max,
    client: { id: "cli", displayName: name, version: "recorder", platform, mode: "cli" },
    role: "operator", scopes,
  };
  if (deviceFamily) p.client.deviceFamily = deviceFamily;
  if (Object.keys(auth).length) p.auth = auth;
  return p;
}

function nodeParams({ min = 3, max = 4, token = TOKEN, password, deviceToken, name = "Recorder Node", caps = ["system"], commands = ["system.notify"], permissions } = {}) {
  const auth = {};
  if (token) auth.token = token;
  if (password) auth.password = password;
  if (deviceToken) auth.deviceToken = deviceToken;
  const p = {
    minProtocol: min, maxProtocol: max,
    client: { id: "node-host", displayName: name, version: "recorder", platform: "linux", deviceFamily: "Linux", mode: "node" },
    role: "node", scopes: [], caps, commands,
  };
  if (permissions) p.permissions = permissions;
  if (Object.keys(auth).length) p.auth = auth;
  return p;
}

const has = (hello, kind, name) => Boolean(hello?.features?.[kind]?.includes(name));

// listAll asks for both queues, as pairdeck's client lists: node.pair.list,
// then device.pair.list where the gateway offers it. Returns both results.
async function listAll(op) {
  const nodes = await op.call("node.pair.list", {});
  const devices = has(op.hello, "methods", "device.pair.list") ? await op.call("device.pair.list", {}) : null;
  return { nodes, devices };
}

// ---------------------------------------------------------------- scenarios
async function openOperator(rec, label, identity, extra = {}) {
  const c = new Conn(rec, label, extra.url ?? URL_, extra);
  await c.open();
  const res = await c.connect(operatorParams(extra), { identity });
  if (!res?.ok) throw new Error(`${label}: operator connect failed: ${JSON.stringify(res)}`);
  return c;
}

async function scenarioHandshake() {
  const rec = new Recorder("handshake");
  const A = newIdentity("A");
  const tries = [
    ["op-nodevice-3to4", {}, null],
    ["op-device-3to4", {}, A],
    ["op-device-4to4", { min: 4, max: 4 }, A],
    ["op-device-3to3", { min: 3, max: 3 }, A],
    ["op-nodevice-3to3", { min: 3, max: 3 }, null],
    ["op-wrong-token", { token: "test-only-wrong-token" }, A],
    ["op-no-token", { token: "" }, A],
    ["op-nodevice-wrong-token", { token: "test-only-wrong-token" }, null],
  ];
  let deviceToken;
  for (const [label, opts, idn] of tries) {
    rec.step(`connect ${label}`);
    const c = new Conn(rec, label, URL_);
    await c.open();
    const res = await c.connect(operatorParams(opts), { identity: idn });
    if (res?.ok) {
      deviceToken ??= res.payload?.auth?.deviceToken;
      const first = await c.call("node.pair.list", {});
      rec.step(`${label}: node.pair.list ok=${first?.ok}`);
      if (has(c.hello, "methods", "device.pair.list")) await c.call("device.pair.list", {});
      await c.call("node.list", {});
      if (label === "op-device-3to4") {
        for (const m of ["pairdeck.block.list", "node.pair.verify", "node.pair.request", "node.pair.remove", "device.pair.rename", "no.such.method"]) {
          rec.step(`${label}: call ${m} (offered: ${has(c.hello, "methods", m)})`);
          const params = m === "node.pair.verify" ? { nodeId: "no-such-node", token: "test-only-wrong-token" }
            : m === "node.pair.request" ? { nodeId: "rec-probe", displayName: "Probe" }
              : m === "node.pair.remove" ? { nodeId: "no-such-node" }
                : m === "device.pair.rename" ? { deviceId: "no-such-device", label: "x" } : {};
          await c.call(m, params);
        }
        if (has(c.hello, "methods", "node.pair.request")) {
          // leave no pending request behind
          const l = await c.call("node.pair.list", {});
          for (const r of l?.payload?.pending ?? []) await c.call("node.pair.reject", { requestId: r.requestId });
        }
      }
      await c.close();
    } else {
      await c.closedP;
    }
  }
  if (deviceToken) {
    rec.step("connect op-devicetoken-only: device A with its device token and no shared token");
    const c = new Conn(rec, "op-devicetoken-only", URL_);
    await c.open();
    const res = await c.connect(operatorParams({ token: "", deviceToken }), { identity: A });
    if (res?.ok) await c.close(); else await c.closedP;
    rec.step("connect op-devicetoken-as-token: device A with its device token in auth.token and auth.deviceToken (4.12 client style)");
    const c2 = new Conn(rec, "op-devicetoken-as-token", URL_);
    await c2.open();
    const res2 = await c2.connect(operatorParams({ token: deviceToken, deviceToken }), { identity: A });
    if (res2?.ok) await c2.close(); else await c2.closedP;
  }
  rec.write();
}

// node.pair.request model (4.12, 7.35): an operator files, lists, approves,
// rejects, removes; a watcher records the events.
async function scenarioLegacyNodePairing() {
  const rec = new Recorder("node-pairing-legacy");
  const W = newIdentity("watcher"), O = newIdentity("op");
  const watch = await openOperator(rec, "watcher", W);
  if (!has(watch.hello, "methods", "node.pair.request")) { await watch.close(); return; }
  const op = await openOperator(rec, "op", O);
  const req = async (p) => (await op.call("node.pair.request", p))?.payload?.request;
  rec.step("file three requests (one exec-class, one with permissions)");
  const a = await req({ nodeId: "rec-a", displayName: "Alpha", platform: "linux" });
  await sleep(20);
  const b = await req({ nodeId: "rec-b", displayName: "Bravo", permissions: { camera: true, screen: false } });
  await sleep(20);
  const c = await req({ nodeId: "rec-c", displayName: "Charlie", platform: "linux", caps: ["system"], commands: ["system.run", "system.notify"] });
  rec.step("refresh Alpha (same node asks again)");
  await op.call("node.pair.request", { nodeId: "rec-a", displayName: "Alpha 2" });
  await op.call("node.pair.list", {});
  rec.step("approve Alpha, approve Charlie (exec), reject Bravo, reject Bravo again");
  await op.call("node.pair.approve", { requestId: a?.requestId });
  await op.call("node.pair.approve", { requestId: c?.requestId });
  await op.call("node.pair.reject", { requestId: b?.requestId });
  await op.call("node.pair.reject", { requestId: b?.requestId });
  await op.call("node.pair.approve", { requestId: "00000000-0000-4000-8000-000000000000" });
  await op.call("node.pair.list", {});
  await op.call("node.list", {});
  rec.step("rename Alpha, then remove it (if offered)");
  await op.call("node.rename", { nodeId: "rec-a", displayName: "Kitchen" });
  await op.call("node.rename", { nodeId: "no-such-node", displayName: "x" });
  if (has(op.hello, "methods", "node.pair.remove")) await op.call("node.pair.remove", { nodeId: "rec-a" });
  await op.call("node.pair.list", {});
  await sleep(500);
  await op.close();
  await watch.close();
  rec.write();
}

// A node that connects with role node, a device and the shared token: what
// the gateway does by itself (device pairing, a capability request), what
// the node's own socket sees, approve / reject / remove from an operator, and
// the node reconnecting with the device token it was given.
async function scenarioNodeConnect() {
  const rec = new Recorder("node-connect");
  const W = newIdentity("watcher");
  const watch = await openOperator(rec, "watcher", W);
  const nodes = { P: newIdentity("P"), Q: newIdentity("Q"), R: newIdentity("R"), S: newIdentity("S") };
  const tokens = {};
  const socks = {};
  for (const [n, idn] of Object.entries(nodes)) {
    rec.step(`node ${n} connects (role node, device, shared token, offers 3..4)`);
    const s = new Conn(rec, `node-${n}`, URL_);
    await s.open();
    const perms = n === "P" || n === "Q" ? { camera: true } : undefined;
    // R declares an exec-class command; S declares nothing at all.
    const cmds = n === "R" ? ["system.run", "system.notify"] : n === "S" ? [] : ["system.notify"];
    const caps = n === "S" ? [] : ["system"];
    const res = await s.connect(nodeParams({ name: `Recorder ${n}`, caps, commands: cmds, permissions: perms }), { identity: idn });
    tokens[n] = res?.payload?.auth?.deviceToken;
    socks[n] = s;
    await sleep(300);
  }
  rec.step("node P asks node.pair.request for itself (the 4.12-style flow)");
  if (!socks.P.closed) await socks.P.call("node.pair.request", { nodeId: nodes.P.id, displayName: "Recorder P" });
  await sleep(300);
  const op = await openOperator(rec, "op", newIdentity("op"));
  const list = (await listAll(op)).nodes;
  await op.call("node.list", {});
  const pend = list?.payload?.pending ?? [];
  const byNode = (idn) => pend.find((p) => p.nodeId === idn.id);
  rec.step("rename S, which has only a pending request");
  await op.call("node.rename", { nodeId: nodes.S.id, displayName: "Renamed S" });
  rec.step("approve P, reject Q, approve R");
  if (byNode(nodes.P)) await op.call("node.pair.approve", { requestId: byNode(nodes.P).requestId });
  if (byNode(nodes.Q)) await op.call("node.pair.reject", { requestId: byNode(nodes.Q).requestId });
  if (byNode(nodes.R)) await op.call("node.pair.approve", { requestId: byNode(nodes.R).requestId });
  await sleep(1000);
  await listAll(op);
  await op.call("node.list", {});
  rec.step("rename P, now approved");
  await op.call("node.rename", { nodeId: nodes.P.id, displayName: "Renamed P" });
  if (has(op.hello, "methods", "device.pair.rename")) await op.call("device.pair.rename", { deviceId: nodes.P.id, label: "Renamed P device" });
  rec.step("nodes reconnect: P with its device token only, Q with the shared token again");
  for (const n of ["P", "Q", "S"]) await socks[n].close();
  if (tokens.P) {
    const s = new Conn(rec, "node-P-devicetoken", URL_);
    await s.open();
    const res = await s.connect(nodeParams({ name: "Recorder P", token: "", deviceToken: tokens.P }), { identity: nodes.P });
    if (res?.ok) { await sleep(300); await s.close(); } else await s.closedP;
    const s2 = new Conn(rec, "node-P-devicetoken-as-token", URL_);
    await s2.open();
    const res2 = await s2.connect(nodeParams({ name: "Recorder P", token: tokens.P, deviceToken: tokens.P }), { identity: nodes.P });
    if (res2?.ok) { await sleep(300); await s2.close(); } else await s2.closedP;
  }
  {
    const s = new Conn(rec, "node-Q-again", URL_);
    await s.open();
    const res = await s.connect(nodeParams({ name: "Recorder Q", permissions: { camera: true } }), { identity: nodes.Q });
    if (res?.ok) { await sleep(500); await s.close(); } else await s.closedP;
  }
  {
    rec.step("node N3 offers 3..3 (N-1), and node N4 without a device");
    const s = new Conn(rec, "node-3to3", URL_);
    await s.open();
    const res = await s.connect(nodeParams({ name: "Recorder Legacy", min: 3, max: 3 }), { identity: newIdentity("L") });
    if (res?.ok) { await sleep(300); await s.close(); } else await s.closedP;
    const s2 = new Conn(rec, "node-nodevice", URL_);
    await s2.open();
    const res2 = await s2.connect(nodeParams({ name: "Recorder Nodevice" }));
    if (res2?.ok) { await s2.close(); } else await s2.closedP;
    const s3 = new Conn(rec, "node-no-token", URL_);
    await s3.open();
    const res3 = await s3.connect(nodeParams({ name: "Recorder Notoken", token: "" }), { identity: newIdentity("T") });
    if (res3?.ok) { await s3.close(); } else await s3.closedP;
  }
  rec.step("remove R (if offered); its socket is closed");
  if (has(op.hello, "methods", "node.pair.remove")) await op.call("node.pair.remove", { nodeId: nodes.R.id });
  await Promise.race([socks.R.closedP, sleep(3000)]);
  await socks.R.close();
  await listAll(op);
  await op.call("node.list", {});
  await sleep(500);
  await op.close();
  await watch.close();
  rec.write();
}

// Device pairing requests that wait for a person. Loopback connects are
// approved silently; a browser Origin header (or, where the gateway has it,
// gateway.nodes.pairing.autoApproveLocal:false) makes them wait.
async function scenarioDevicePairing() {
  const rec = new Recorder("device-pairing");
  const W = newIdentity("watcher");
  const watch = await openOperator(rec, "watcher", W);
  if (!has(watch.hello, "methods", "device.pair.list")) { await watch.close(); return; }
  const origin = new URL(URL_).origin.replace("ws:", "http:");
  const attempt = async (label, idn, params) => {
    rec.step(`connect ${label}`);
    const c = new Conn(rec, label, URL_, { origin });
    await c.open();
    const res = await c.connect(params, { identity: idn });
    if (res?.ok) { await c.close(); } else await c.closedP;
    return res;
  };
  const E = newIdentity("E"), F = newIdentity("F"), G = newIdentity("G");
  const op = await openOperator(rec, "op", newIdentity("op"));
  rec.step("E: a new operator device from a browser origin");
  await attempt("E-new", E, operatorParams({ scopes: ["operator.read"] }));
  await listAll(op);
  await sleep(1100);
  await attempt("E-retry-same", E, operatorParams({ scopes: ["operator.read"] }));
  rec.step("list after the refresh (same requestId; refreshedAtMs?)");
  await listAll(op);
  await sleep(200);
  await attempt("E-retry-wider", E, operatorParams({ scopes: ["operator.read", "operator.pairing"] }));
  rec.step("F: paired silently with operator.read, then asks for more from a browser origin, then for role node, then with another platform");
  {
    const c = new Conn(rec, "F-first", URL_);
    await c.open();
    const res = await c.connect(operatorParams({ scopes: ["operator.read"] }), { identity: F });
    if (res?.ok) await c.close(); else await c.closedP;
  }
  await attempt("F-scope-upgrade", F, operatorParams({ scopes: ALL_SCOPES }));
  await attempt("F-role-upgrade", F, nodeParams({ name: "F as node" }));
  {
    const c = new Conn(rec, "F-metadata-upgrade", URL_);
    await c.open();
    const res = await c.connect(operatorParams({ scopes: ["operator.read"], platform: "darwin" }), { identity: F });
    if (res?.ok) await c.close(); else await c.closedP;
  }
  rec.step("G: a node device from a browser origin");
  await attempt("G-node-new", G, nodeParams({ name: "Recorder G", commands: ["system.run"] }));
  const list = (await listAll(op)).devices;
  const pend = list?.payload?.pending ?? [];
  const of = (idn) => pend.filter((p) => p.deviceId === idn.id);
  rec.step("approve E's request, reject F's, approve G's (node role: needs admin)");
  for (const p of of(E)) await op.call("device.pair.approve", { requestId: p.requestId });
  for (const p of of(F)) await op.call("device.pair.reject", { requestId: p.requestId });
  for (const p of of(G)) await op.call("device.pair.approve", { requestId: p.requestId });
  await op.call("device.pair.reject", { requestId: "00000000-0000-4000-8000-000000000000" });
  await listAll(op);
  rec.step("E and G connect again after approval");
  await attempt("E-after", E, operatorParams({ scopes: ["operator.read", "operator.pairing"] }));
  {
    const c = new Conn(rec, "G-after", URL_, { origin });
    await c.open();
    const res = await c.connect(nodeParams({ name: "Recorder G", commands: ["system.run"] }), { identity: G });
    await sleep(500);
    if (res?.ok) await c.close(); else await c.closedP;
  }
  await listAll(op);
  await sleep(500);
  await op.close();
  await watch.close();
  rec.write();
}

async function scenarioPassword() {
  if (!PW_URL) return;
  const rec = new Recorder("auth-password");
  const A = newIdentity("A");
  const tries = [
    ["pw-token-only", { url: PW_URL, token: TOKEN }],
    ["pw-none", { url: PW_URL, token: "" }],
    ["pw-wrong", { url: PW_URL, token: "", password: "test-only-wrong-password" }],
    ["pw-ok", { url: PW_URL, token: "", password: PASSWORD }],
  ];
  for (const [label, o] of tries) {
    rec.step(`connect ${label}`);
    const c = new Conn(rec, label, o.url);
    await c.open();
    const res = await c.connect(operatorParams(o), { identity: A });
    if (res?.ok) { await listAll(c); await c.close(); } else await c.closedP;
  }
  rec.step("node connects with the password");
  {
    const c = new Conn(rec, "pw-node", PW_URL);
    await c.open();
    const res = await c.connect(nodeParams({ token: "", password: PASSWORD }), { identity: newIdentity("N") });
    await sleep(300);
    if (res?.ok) await c.close(); else await c.closedP;
  }
  rec.step("wrong passwords until the gateway rate-limits (configured: exemptLoopback false, maxAttempts 3)");
  for (let i = 0; i < 6; i++) {
    const c = new Conn(rec, `pw-guess-${i + 1}`, PW_URL);
    await c.open();
    const res = await c.connect(operatorParams({ token: "", password: "test-only-wrong-password" }), { identity: A });
    if (res?.ok) await c.close(); else await c.closedP;
  }
  rec.step("the right password while locked out");
  {
    const c = new Conn(rec, "pw-ok-locked", PW_URL);
    await c.open();
    const res = await c.connect(operatorParams({ token: "", password: PASSWORD }), { identity: A });
    if (res?.ok) await c.close(); else await c.closedP;
  }
  rec.write();
}

// Connect while the gateway starts: 7.35 and 9.6 answer UNAVAILABLE with a
// retry hint until they are ready.
async function scenarioStartup() {
  const rec = new Recorder("startup");
  const A = newIdentity("A");
  for (let i = 1; i <= 400; i++) {
    const c = new Conn(rec, `startup-${i}`, URL_);
    try { await c.open(); } catch { rec.lines = rec.lines.filter((l) => l.conn !== c.label); await sleep(250); continue; }
    const res = await c.connect(operatorParams({}), { identity: A });
    if (res?.ok) { rec.step(`ready after ${i} attempts`); await c.close(); break; }
    await c.closedP;
    await sleep(res?.error?.retryAfterMs ?? 500);
  }
  // keep the first refusals and the success only
  const keep = new Set();
  const conns = [...new Set(rec.lines.filter((l) => l.conn).map((l) => l.conn))];
  conns.slice(0, 2).concat(conns.slice(-1)).forEach((c) => keep.add(c));
  rec.lines = rec.lines.filter((l) => !l.conn || keep.has(l.conn));
  rec.write();
}

// waitReady connects until the gateway at url completes a handshake (nothing
// is recorded): used before the scenarios of the second gateway.
async function waitReady(url, auth) {
  const rec = new Recorder("ready");
  for (let i = 0; i < 240; i++) {
    const c = new Conn(rec, "ready", url);
    try { await c.open(); } catch { await sleep(500); continue; }
    const res = await c.connect(operatorParams({ url, token: auth.token ?? "", password: auth.password }));
    if (res?.ok) { await c.close(); return; }
    await c.closedP;
    await sleep(500);
  }
  throw new Error(`${url} never became ready`);
}

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  if (process.env.OC_STARTUP === "1") { await scenarioStartup(); return; }
  if (process.env.OC_WAIT_PW === "1") { await waitReady(PW_URL, { password: PASSWORD }); return; }
  const only = (process.env.OC_SCENARIOS || "handshake,legacy,node,device,password").split(",");
  if (only.includes("handshake")) await scenarioHandshake();
  if (only.includes("legacy")) await scenarioLegacyNodePairing();
  if (only.includes("node")) await scenarioNodeConnect();
  if (only.includes("device")) await scenarioDevicePairing();
  if (only.includes("password")) await scenarioPassword();
})().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
