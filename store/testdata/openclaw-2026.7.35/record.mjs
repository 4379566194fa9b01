// Records nodes/{pending,paired}.json as openclaw@2026.7.35 writes them, by
// calling its own pairing functions (the steps TestOpenClaw735DirKeepsWorking
// repeats). Run with the release's Node:
//   node record.mjs <pkg dir node_modules/openclaw> <empty state dir> <out dir>
import fs from "node:fs";
import path from "node:path";
const pkg = process.argv[2], base = process.argv[3], out = process.argv[4];
const m = await import(path.join(pkg, "dist/node-pairing-C0KBZUMJ.js"));
const requestNodePairing = m.l, approveNodePairing = m.t, renamePairedNode = m.c;
const snap = (name) => {
  for (const f of ["pending", "paired"]) {
    const p = path.join(base, "nodes", f + ".json");
    if (fs.existsSync(p)) fs.copyFileSync(p, path.join(out, `${name}.${f}.json`));
  }
};
const r1 = await requestNodePairing({nodeId: "n1", clientId: "node-host", clientMode: "node", displayName: "Alpha", platform: "linux", version: "2026.7.35", deviceFamily: "Linux", caps: ["system"], commands: ["system.run", "system.notify"], permissions: {camera: false, screen: true}, remoteIp: "10.0.0.7", silent: false}, base);
snap("1-request");
const a1 = await approveNodePairing(r1.request.requestId, {callerScopes: ["operator.admin"]}, base);
snap("2-approve");
await renamePairedNode("n1", "Beta", base);
snap("3-rename");
fs.writeFileSync(path.join(out, "ids.json"), JSON.stringify({r1: r1.request.requestId, t1: a1.node.token}, null, 2));
