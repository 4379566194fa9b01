package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
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

// codeCreated is `codes create --json`.
type codeCreated struct {
	Code      protocol.SetupCode `json:"code"`
	Secret    string             `json:"secret"`
	SetupLink string             `json:"setupLink"`
}

// checkNoSecret fails if text holds a secret, in any of the forms a person
// or a grep would find it by.
func checkNoSecret(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, strings.ReplaceAll(s, "-", ""), strings.ToLower(s)} {
			if strings.Contains(text, form) {
				t.Errorf("%s shows the code %s:\n%s", what, s, text)
			}
		}
	}
}

// TestCodesOffline: with no gateway, codes are created, listed and revoked
// in the state dir under its lock, as the nodes commands act; the code is
// shown once and never again, in no list and no file.
func TestCodesOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var made codeCreated
	e.okJSON(&made, "codes", "create", "--uses", "2", "--name-prefix", "rack-", "--cidr", "10.4.0.0/16,192.168.1.7", "--note", "rack 4", "--ttl", "1h")
	if norm, err := protocol.NormalizeCode(made.Secret); err != nil || norm != made.Secret {
		t.Fatalf("secret %q is not a code", made.Secret)
	}
	sc := made.Code.Scope
	if made.SetupLink != "" || made.Code.MaxUses != 2 || sc.NamePrefix != "rack-" || strings.Join(sc.CIDRs, ",") != "10.4.0.0/16,192.168.1.7/32" ||
		made.Code.Note != "rack 4" || made.Code.Prefix != made.Secret[:4] || !strings.HasPrefix(made.Code.CreatedBy, "cli ") {
		t.Errorf("created %+v: want no link (no gateway address) and the scope asked for", made)
	}
	if left := time.Until(time.UnixMilli(made.Code.ExpiresAtMs)); left < 59*time.Minute || left > time.Hour {
		t.Errorf("expires in %s, want 1h", left)
	}

	r := e.ok("codes", "create", "--link-url", "ws://192.168.1.20:18789")
	second := regexp.MustCompile(`(?m)^  ([0-9A-Z]{4}(-[0-9A-Z]{4}){4})$`).FindStringSubmatch(r.stdout)
	if second == nil {
		t.Fatalf("no code on a line of its own:\n%s", r)
	}
	link := regexp.MustCompile(`(?m)^  (oc-pair://[A-Za-z0-9_-]+)$`).FindStringSubmatch(r.stdout)
	if link == nil {
		t.Fatalf("no setup link:\n%s", r)
	}
	p, err := protocol.ParseSetupLink(link[1])
	if err != nil || p.URL != "ws://192.168.1.20:18789" || p.BootstrapToken != second[1] || p.ExpiresAtMs == 0 {
		t.Errorf("setup link %s = %+v, %v", link[1], p, err)
	}
	for _, want := range []string{"This is the only time the code is shown", "approves 1 node until", "any name, any platform, any network, no exec commands",
		"pairdeck node pair --code -", "pairdeck node pair --code-file FILE", "openclaw connect --target-file FILE", "openclaw node run --pair",
		"--allow-exec"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("codes create does not say %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "▀") || strings.Contains(r.stdout, "\x1b") {
		t.Errorf("a QR code drawn into a pipe:\n%s", r.stdout)
	}

	list := e.ok("codes", "list")
	tb := parseTable(t, list.stdout, "ID", "PREFIX", "STATE", "USES", "EXPIRES", "SCOPE", "NOTE", "CREATED BY")
	if got := tb.cell(t, made.Code.ID, "STATE"); got != "active" {
		t.Errorf("state %q", got)
	}
	if got := tb.cell(t, made.Code.ID, "USES"); got != "0/2" {
		t.Errorf("uses %q", got)
	}
	if got := tb.cell(t, made.Code.ID, "SCOPE"); got != "name rack-* 10.4.0.0/16 192.168.1.7/32" {
		t.Errorf("scope %q", got)
	}
	var listed protocol.CodeListResult
	lj := e.okJSON(&listed, "codes", "list", "--all")
	if len(listed.Codes) != 2 || strings.Contains(lj.stdout, `"secret"`) {
		t.Errorf("list --json: %s", lj.stdout)
	}
	checkNoSecret(t, "codes list", list.stdout+lj.stdout, made.Secret, second[1])

	// Revoked by the first characters of the code, as lists show them.
	r = e.ok("codes", "revoke", strings.ToLower(made.Secret[:4]), "--reason", "rebuild postponed")
	if !strings.Contains(r.stdout, "Revoked setup code "+made.Code.ID) {
		t.Errorf("revoke:\n%s", r)
	}
	var again protocol.CodeRevokeResult
	e.okJSON(&again, "codes", "revoke", made.Code.ID)
	if again.Revoked || again.Code.RevokedAtMs == 0 {
		t.Errorf("revoking twice: %+v", again)
	}
	tb = parseTable(t, e.ok("codes", "list", "--all").stdout, "ID", "PREFIX", "STATE", "USES")
	if got := tb.cell(t, made.Code.ID, "STATE"); got != "revoked" {
		t.Errorf("after revoke: state %q", got)
	}
	if strings.Contains(e.ok("codes", "list").stdout, made.Code.ID) {
		t.Errorf("a revoked code listed without --all")
	}
	checkFailure(t, e.run("codes", "revoke", "cnosuchcode"), 1, `no setup code matches "cnosuchcode"`)

	// No file of the state dir holds a code.
	filepath.Walk(e.stateDir, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			data, _ := os.ReadFile(path)
			checkNoSecret(t, path, string(data), made.Secret, second[1])
		}
		return nil
	})
}

// TestCodeQRReadsBack: on a terminal, the QR code drawn is the setup link
// printed above it (read back from the screen and decoded), in colour, and
// plain with NO_COLOR; --no-qr leaves it out. A ~160-character link fits 80
// columns.
func TestCodeQRReadsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		extra  []string
		args   []string
		colour bool
		drawn  bool
	}{
		{nil, nil, true, true},
		{[]string{"NO_COLOR=1"}, nil, false, true},
		{nil, []string{"--no-qr"}, false, false},
	} {
		r := e.runTTYEnv(80, tc.extra, append([]string{"codes", "create", "--link-url", "ws://192.168.178.20:18789"}, tc.args...)...)
		if r.code != 0 {
			t.Fatalf("codes create on a terminal:\n%s", r)
		}
		link := regexp.MustCompile(`(?m)^  (oc-pair://[A-Za-z0-9_-]+)$`).FindStringSubmatch(r.out)
		if link == nil {
			t.Fatalf("no link:\n%s", r)
		}
		var drawing []string
		for _, l := range strings.Split(r.out, "\n") {
			if strings.HasPrefix(l, "\x1b[97;40m") || strings.HasPrefix(l, "█") {
				drawing = append(drawing, l)
			}
		}
		if !tc.drawn {
			if len(drawing) != 0 {
				t.Errorf("--no-qr drew %d lines", len(drawing))
			}
			continue
		}
		if len(drawing) == 0 || strings.HasPrefix(drawing[0], "\x1b") != tc.colour {
			t.Fatalf("QR code (colour %v) not drawn as expected:\n%s", tc.colour, r)
		}
		if w := len([]rune(qrStrip(drawing[0]))); w > 80 {
			t.Errorf("a %d-character link draws %d columns", len(link[1]), w)
		}
		if got := decodeDrawing(t, strings.Join(drawing, "\n")); got != link[1] {
			t.Errorf("the QR code reads %q, the link printed is %q", got, link[1])
		}
	}
}
