package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// TestCodeFlagsThatCannotWork: every refusal of a setup code's flags, a
// decision's reason and a node's code is a usage error naming the flag,
// made before anything is contacted or written.
func TestCodeFlagsThatCannotWork(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"codes", "create", "--ttl", "0"}, "--ttl 0s: want a duration from 1s to 720h"},
		{[]string{"codes", "create", "--ttl", "721h"}, "--ttl 721h: want a duration from 1s to 720h"},
		{[]string{"codes", "create", "--uses", "0"}, "--uses 0: want a number from 1 to 1000"},
		{[]string{"codes", "create", "--uses", "1001"}, "--uses 1001"},
		{[]string{"codes", "create", "--name", "a", "--name-prefix", "b"}, "--name (one exact name) or --name-prefix"},
		{[]string{"codes", "create", "--name", "evil\x1b[2J"}, `--name "evil\x1b[2J"`},
		{[]string{"codes", "create", "--name-prefix", "  "}, "--name-prefix"},
		{[]string{"codes", "create", "--cidr", "10.0.0.1/8"}, "--cidr 10.0.0.1/8 has host bits set: did you mean 10.0.0.0/8?"},
		{[]string{"codes", "create", "--cidr", "lan"}, `--cidr "lan": want a network such as 192.168.1.0/24`},
		{[]string{"codes", "create", "--platform", "linux,,macos"}, `--platform "": want a platform name`},
		{[]string{"codes", "create", "--note", "line\nbreak"}, "--note"},
		{[]string{"codes", "create", "--note", strings.Repeat("n", protocol.MaxReasonLen+1)}, "--note: longer than 512 bytes"},
		{[]string{"codes", "create", "--link-url", "http://192.168.1.2:18789"}, "--link-url"},
		{[]string{"codes", "create", "--link-url", "ws://203.0.113.5:18789"}, "refuses plain ws:// to an address on the public internet"},
		{[]string{"codes", "revoke"}, "needs a setup code"},
		{[]string{"codes", "revoke", "c1", "--reason", "a\u202eb"}, "--reason"},
		{[]string{"nodes", "approve", "r1", "--reason", "bad\x1b]2;x\x07"}, "--reason"},
		{[]string{"nodes", "reject", "r1", "--reason", strings.Repeat("r", protocol.MaxReasonLen+1)}, "--reason: longer than 512 bytes"},
		{[]string{"nodes", "block", "--node", "x", "--reason", "ding\x07"}, "--reason"},
		{[]string{"node", "pair", "--code", "-", "--gateway-token-file", "-"}, "cannot both read stdin"},
		{[]string{"node", "pair", "--code", "x", "--code-file", "f"}, "--code or --code-file, not both"},
	} {
		checkFailure(t, e.run(tc.args...), 2, tc.want)
	}
	if ents, _ := os.ReadDir(e.stateDir); len(ents) != 0 {
		t.Errorf("refused flags wrote to the state dir: %v", ents)
	}
}

// TestNodePairReadsTheCodeSafely: what is not a code or a link is refused
// before connecting; an expired link is refused as OpenClaw's node host
// refuses it; a code in argv works but warns that ps shows it.
func TestNodePairReadsTheCodeSafely(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nodeDir := t.TempDir()
	r := e.runStdin("hunter2\n", "node", "pair", "--node-dir", nodeDir, "--code", "-", "--url", "ws://127.0.0.1:1")
	checkFailure(t, r, 2, "not a pairdeck setup code", "or an oc-pair:// setup link")

	expired, err := protocol.EncodeSetupLink(protocol.SetupPayload{URL: "ws://127.0.0.1:1", BootstrapToken: "K7QM-2XHF-9RTW-C4PA-M3DE",
		ExpiresAtMs: time.Now().Add(-time.Minute).UnixMilli()})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "link")
	if err := os.WriteFile(file, []byte(expired+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkFailure(t, e.run("node", "pair", "--node-dir", nodeDir, "--code-file", file), 1, "the setup link expired at", "codes create")
	checkFailure(t, e.runStdin("oc-pair://not-base64!\n", "node", "pair", "--node-dir", nodeDir, "--code", "-"), 2, "not a setup link")
	if _, err := os.Stat(filepath.Join(nodeDir, "node.json")); err == nil {
		t.Errorf("a refused code left node.json")
	}

	// Literal: it is used, with a warning first. The gateway (main's, or
	// one that knows codes) decides what the code is worth; here the
	// request only has to be made.
	g := e.serve()
	r = e.run("node", "pair", "--node-dir", t.TempDir(), "--url", g.url, "--wait", "1s", "--code", "K7QM-2XHF-9RTW-C4PA-M3DE")
	if !strings.HasPrefix(r.stderr, "pairdeck: warning: a setup code given with --code is visible to other users of this machine (ps); use --code - or --code-file FILE\n") {
		t.Errorf("no warning about the code in argv:\n%s", r)
	}
	if r.code == 2 {
		t.Errorf("a literal code was refused:\n%s", r)
	}
	// Through stdin or a file: no warning.
	r = e.runStdin("k7qm 2xhf 9rtw c4pa m3de\n", "node", "pair", "--node-dir", t.TempDir(), "--url", g.url, "--wait", "1s", "--code", "-")
	if strings.Contains(r.stderr, "visible to other users") || r.code == 2 {
		t.Errorf("--code - warned or refused:\n%s", r)
	}
}
