// Records nodes/{pending,paired}.json as openclaw@2026.4.12 writes them, by
// calling its own pairing functions (the steps TestOpenClawStorageWritesWhatOpenClawWrites
// repeats). Run with the release's Node:
//   node record.mjs <pkg dir node_modules/openclaw> <empty state dir> <out dir>
import fs from "node:fs";
import path from "node:path";
const pkg = process.argv[2], base = process.argv[3], out = process.argv[4];
const m = await import(path.join(pkg, "dist/exec-defaults-CWDkZRxk.js"));
const requestNodePairing = m.h, approveNodePairing = m.u, renamePairedNode = m.m;
const snap = (name) => {
  for (const f of ["pending", "paired"]) {
    const p = path.join(base, "nodes", f + ".json");
    if (fs.existsSync(p)) fs.copyFileSync(p, path.join(out, `${name}.${f}.json`));
  }
};
const r1 = await requestNodePairing({nodeId: "n1", displayName: "Alpha", platform: "linux", version: "1.2.3", deviceFamily: "Linux", caps: ["system"], commands: ["system.run", "system.notify"], remoteIp: "10.0.0.7", silent: false}, base);
snap("1-request");
const a1 = await approveNodePairing(r1.request.requestId, {callerScopes: ["operator.admin"]}, base);
snap("2-approve");
await renamePairedNode("n1", "Beta", base);
snap("3-rename");
const r2 = await requestNodePairing({nodeId: "n2", displayName: "Gamma", platform: "darwin"}, base);
snap("4-request");
const a2 = await approveNodePairing(r2.request.requestId, {callerScopes: ["operator.admin"]}, base);
snap("5-approve");
fs.writeFileSync(path.join(out, "ids.json"), JSON.stringify({r1: r1.request.requestId, t1: a1.node.token, r2: r2.request.requestId, t2: a2.node.token}, null, 2));
