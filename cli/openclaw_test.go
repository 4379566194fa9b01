package cli_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/client/openclawtest"
)

// A state dir that belongs to an OpenClaw install (openclaw.json, the same
// OPENCLAW_STATE_DIR) has one owner: the OpenClaw gateway that answers on
// the port the file names. The stand-in for it is a pairdeck gateway
// serving another dir (it speaks the same protocol) or, where the test
// looks at what pairdeck sends, a listener that sends connect.challenge.

// dirSnapshot is every entry under dir with its mode and, for files, a hash
// of its bytes: equal snapshots mean nothing was created, removed or
// changed.
func dirSnapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		line := rel + " " + info.Mode().String()
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			line += " " + hex.EncodeToString(sum[:8])
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func checkUntouched(t *testing.T, dir string, before []string, what string) {
	t.Helper()
	if after := dirSnapshot(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("%s changed the OpenClaw state dir:\nbefore:\n%s\nafter:\n%s", what, strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

// writeOpenClawConfig writes <state>/openclaw.json as a person edits it:
// JSON5, with comments, unquoted keys and trailing commas.
func writeOpenClawConfig(t *testing.T, stateDir, gatewayJSON5, version string) {
	t.Helper()
	doc := fmt.Sprintf(`// written by hand, as OpenClaw's docs show
{
  gateway: %s,
  /* OpenClaw stamps the version that last wrote the file */
  meta: { lastTouchedVersion: %q, },
}
`, gatewayJSON5, version)
	if err := os.WriteFile(filepath.Join(stateDir, "openclaw.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
}

// portOf is the port of a ws:// URL.
func portOf(t *testing.T, url string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(url, "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// freePort is a loopback port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// openclawLock writes the lock file OpenClaw 2026.8+'s gateway keeps under
// <state>/tmp/openclaw-<uid>/, naming pid.
func openclawLock(t *testing.T, stateDir string, pid int) {
	t.Helper()
	dir := filepath.Join(stateDir, "tmp", "openclaw-"+strconv.Itoa(os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	data := fmt.Sprintf(`{"pid":%d,"createdAt":"2026-12-06T13:55:58.975Z","configPath":%q,"port":1}`, pid, filepath.Join(stateDir, "openclaw.json"))
	if err := os.WriteFile(filepath.Join(dir, "gateway.state.lock"), []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenClawOwnedDirIsAttached: with openclaw.json naming a gateway that
// answers, the nodes commands, the console and plain pairdeck act through
// it with the token from the file (the environment winning), serve
// refuses naming the gateway and how to attach, and the dir is left
// byte for byte as it was (of OpenClaw 4.12's shape and of 2026.8+'s).
func TestOpenClawOwnedDirIsAttached(t *testing.T) {
	t.Parallel()
	for _, generation := range []string{"2026.4.12", "2026.9.6"} {
		t.Run(generation, func(t *testing.T) {
			t.Parallel()
			oc := newEnv(t) // the stand-in gateway's own world
			g := oc.serve()
			port := portOf(t, g.url)

			e := newEnv(t)
			writeOpenClawConfig(t, e.stateDir, fmt.Sprintf(`{ mode: "local", port: %d, auth: { mode: "token", token: %q, }, }`, port, g.token), generation)
			if generation == "2026.9.6" {
				if err := os.MkdirAll(filepath.Join(e.stateDir, "state"), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(e.stateDir, "state", "openclaw.sqlite"), []byte("SQLite format 3\x00"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				// 4.12's own device identity: used, never replaced.
				if err := os.MkdirAll(filepath.Join(e.stateDir, "identity"), 0o700); err != nil {
					t.Fatal(err)
				}
				oc.ok("nodes", "approve", oc.pair("seed").pending.RequestID) // any command that keeps an identity
				data, err := os.ReadFile(filepath.Join(oc.stateDir, "identity", "device.json"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(e.stateDir, "identity", "device.json"), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			openclawLock(t, e.stateDir, g.cmd.Process.Pid)
			before := dirSnapshot(t, e.stateDir)

			pr := oc.pair("Kitchen Display")
			r := e.run("nodes", "pending", "-v")
			tb := parseTable(t, r.stdout, pendingHeaders...)
			if got := tb.cell(t, pr.pending.RequestID, "Name"); got != "Kitchen Display" {
				t.Errorf("pending through the OpenClaw gateway: name %q\n%s", got, r)
			}
			checkErrLine(t, r.stderr, "from the OpenClaw gateway at "+g.url, "it owns "+e.stateDir, "pid "+strconv.Itoa(g.cmd.Process.Pid),
				"port from gateway.port in "+filepath.Join(e.stateDir, "openclaw.json"))
			e.ok("nodes", "status")
			e.ok("nodes", "approve", "kitchen display")
			pr.exits(0)
			if r := oc.ok("nodes", "status", "--json"); !strings.Contains(r.stdout, "Kitchen Display") {
				t.Errorf("the approval did not reach the gateway that owns the dir:\n%s", r)
			}

			// The environment wins over the file; a wrong one is refused.
			r = e.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=not-the-token"}, "nodes", "pending")
			checkFailure(t, r, 1, "refused", "OPENCLAW_GATEWAY_TOKEN")

			// serve refuses, whoever owns the port, saying how to attach.
			r = e.run("serve")
			checkFailure(t, r, 1, "the OpenClaw gateway on 127.0.0.1:"+strconv.Itoa(port), "pid "+strconv.Itoa(g.cmd.Process.Pid),
				"owns "+e.stateDir, "`pairdeck console`", "--url "+g.url)
			r = e.run("serve", "--listen", "127.0.0.1:0")
			checkFailure(t, r, 1, "owns "+e.stateDir)

			// The console attaches; flags for a gateway it would start
			// are refused, naming the gateway.
			r = e.run("--listen", "127.0.0.1:0")
			checkFailure(t, r, 2, "--listen configures a gateway this console starts", "attaches to the gateway at "+g.url, "owns "+e.stateDir, "openclaw.json")
			c := e.startTTY(120)
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("the console showed:\n%q", c.text())
				}
			})
			// The screen is drawn by cell updates: the header's parts
			// may arrive in separate writes.
			c.waitFor(regexp.QuoteMeta(g.url))
			c.waitFor(`\bconnected\b`)
			c.cmd.Process.Kill()
			<-c.done

			checkUntouched(t, e.stateDir, before, "acting through the OpenClaw gateway")
		})
	}
}

// TestOpenClawNewerDirIsExplained: a dir of OpenClaw 2026.8+ (pairing in
// state/openclaw.sqlite, nodes/*.json.migrated, or a config last written
// by such a version) whose gateway is not running is explained by every
// command and left as it was: no nodes/, no audit log, no lock, no
// identity, no log.
func TestOpenClawNewerDirIsExplained(t *testing.T) {
	t.Parallel()
	for name, files := range map[string]map[string]string{
		"database": {"state/openclaw.sqlite": "SQLite format 3\x00"},
		"migrated": {"nodes/paired.json.migrated": "{}", "nodes/pending.json.migrated": "{}"},
		"version":  {},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			port := freePort(t)
			writeOpenClawConfig(t, e.stateDir, fmt.Sprintf(`{ port: %d, auth: { token: "t0k", }, }`, port), "2026.9.6")
			for rel, data := range files {
				p := filepath.Join(e.stateDir, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := dirSnapshot(t, e.stateDir)
			want := []string{e.stateDir + " belongs to OpenClaw 2026.8 or later", "keeps pairing in its database", "`openclaw gateway`",
				"127.0.0.1:" + strconv.Itoa(port), "--url"}
			for _, args := range [][]string{
				{"nodes", "pending"}, {"nodes", "status", "--json"}, {"nodes", "approve", "x"}, {"nodes", "reject", "x"},
				{"nodes", "rename", "--node", "x", "--name", "y"}, {"nodes", "blocked"}, {"pairing", "status"}, {"serve"},
			} {
				checkFailure(t, e.run(args...), 1, want...)
			}
			r := e.runTTY(100)
			if r.code != 1 || !strings.Contains(r.out, want[0]) {
				t.Errorf("the console on a 2026.8+ dir:\n%s", r)
			}
			checkUntouched(t, e.stateDir, before, "a refused command")
		})
	}
}

// TestOpenClawOlderDirWorksOffline: a 4.12-shaped dir whose gateway is not
// running stays readable offline: its files are the format that OpenClaw
// version reads and pairdeck's store reads.
func TestOpenClawOlderDirWorksOffline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	writeOpenClawConfig(t, e.stateDir, fmt.Sprintf(`{ port: %d, auth: { token: "t0k" } }`, freePort(t)), "2026.4.12")
	if err := os.MkdirAll(filepath.Join(e.stateDir, "nodes"), 0o700); err != nil {
		t.Fatal(err)
	}
	// As openclaw@2026.4.12 writes it (a node.pair.request of its CLI).
	pending := `{
  "7e0a2b0c-5f6d-4a39-9d1e-2a6c1f0b9e11": {
    "requestId": "7e0a2b0c-5f6d-4a39-9d1e-2a6c1f0b9e11",
    "nodeId": "ic-a",
    "displayName": "Alpha",
    "platform": "linux",
    "ts": ` + strconv.FormatInt(nowMs(), 10) + `
  }
}`
	if err := os.WriteFile(filepath.Join(e.stateDir, "nodes", "pending.json"), []byte(pending), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.run("nodes", "pending", "-v")
	if got := parseTable(t, r.stdout, pendingHeaders...).cell(t, "7e0a2b0c-5f6d-4a39-9d1e-2a6c1f0b9e11", "Name"); got != "Alpha" {
		t.Errorf("offline read of a 4.12 dir: %q\n%s", got, r)
	}
	checkErrLine(t, r.stderr, "from state dir "+e.stateDir+" (no gateway running)")
	// Following needs a gateway, and says which ones it looked for.
	checkFailure(t, e.run("nodes", "pending", "--watch"), 1, "neither pairdeck's nor OpenClaw's", "gateway.port in", "`openclaw gateway`")

	// Changes offline keep the files as OpenClaw writes them (the
	// openclaw token storage, chosen because OpenClaw wrote the dir): a
	// token nobody changed stays plaintext, a new one is minted plaintext,
	// and no pairdeck-only member appears.
	paired := `{"n1":{"nodeId":"n1","displayName":"One","token":"plain-secret-token-1","createdAtMs":1796564235553,"approvedAtMs":1796564235553}}`
	if err := os.WriteFile(filepath.Join(e.stateDir, "nodes", "paired.json"), []byte(paired), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("nodes", "rename", "--node", "n1", "--name", "Uno")
	e.ok("nodes", "approve", "Alpha")
	got, err := os.ReadFile(filepath.Join(e.stateDir, "nodes", "paired.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"token": "plain-secret-token-1"`, `"displayName": "Uno"`} {
		if !strings.Contains(strings.ReplaceAll(string(got), `":"`, `": "`), want) {
			t.Errorf("paired.json after offline changes lacks %s:\n%s", want, got)
		}
	}
	for _, never := range []string{"tokenSha256", "renamedAtMs"} {
		if strings.Contains(string(got), never) {
			t.Errorf("paired.json after offline changes has pairdeck's %s, which OpenClaw 2026.4.12 cannot read:\n%s", never, got)
		}
	}
	// serve starts on it, and says how it keeps tokens and what that
	// costs.
	tokFile := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(tokFile, []byte("t0k\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := e.serve("--token-file", tokFile)
	g.stop()
	if !strings.Contains(g.stderr.String(), "node token storage: openclaw") || !strings.Contains(g.stderr.String(), "plaintext") {
		t.Errorf("serve on OpenClaw's dir did not say what it costs:\n%s", g.stderr.String())
	}
}

// TestOpenClawPortVariable: with $OPENCLAW_GATEWAY_PORT naming a port where
// a gateway already listens, serve says so and how to attach instead of
// "address in use", and the commands attach there; a serve that listens
// elsewhere is not in its way.
func TestOpenClawPortVariable(t *testing.T) {
	t.Parallel()
	oc := newEnv(t)
	g := oc.serve()
	port := strconv.Itoa(portOf(t, g.url))
	e := newEnv(t)
	e.vars = append(e.vars, "OPENCLAW_GATEWAY_PORT="+port)
	r := e.run("serve")
	checkFailure(t, r, 1, "a gateway on 127.0.0.1:"+port+" (port from $OPENCLAW_GATEWAY_PORT) is already listening there",
		"`pairdeck console`", "--url "+g.url, "--listen")
	pr := oc.pair("Porch")
	r = e.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=" + g.token}, "nodes", "pending", "-v")
	parseTable(t, r.stdout, pendingHeaders...).cell(t, pr.pending.RequestID, "Name")
	checkErrLine(t, r.stderr, "from the gateway at "+g.url+" (port from $OPENCLAW_GATEWAY_PORT)")
	if ents, _ := os.ReadDir(e.stateDir); len(ents) != 0 {
		t.Errorf("attaching wrote into the state dir: %v", ents)
	}
	e.serve("--listen", "127.0.0.1:0").stop()

	// --listen on a gateway's address: in use, by a gateway, said so.
	other := newEnv(t)
	r = other.run("serve", "--listen", strings.TrimPrefix(g.url, "ws://"))
	checkFailure(t, r, 1, "a gateway is already listening there", "pairdeck console --url "+g.url)
}

// challengeGateway is a listener that behaves as an OpenClaw gateway up to
// the handshake: it sends connect.challenge, records the connect request's
// auth, and refuses it as a gateway in password mode refuses a wrong one.
type challengeGateway struct {
	url   string
	mu    sync.Mutex
	auths []map[string]string
}

func newChallengeGateway(t *testing.T) *challengeGateway {
	t.Helper()
	cg := &challengeGateway{}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		challenge := fmt.Sprintf(`{"type":"event","event":"connect.challenge","payload":{"nonce":"3047e0a1-5b7e-4a0c-9f43-1d2c3b4a5e6f","ts":%d}}`, nowMs())
		if c.Write(ctx, websocket.MessageText, []byte(challenge)) != nil {
			return
		}
		_, data, err := c.Read(ctx)
		if err != nil {
			return // a probe: it closes after the challenge
		}
		var req struct {
			ID     string `json:"id"`
			Params struct {
				Auth map[string]string `json:"auth"`
			} `json:"params"`
		}
		if json.Unmarshal(data, &req) != nil {
			return
		}
		cg.mu.Lock()
		cg.auths = append(cg.auths, req.Params.Auth)
		cg.mu.Unlock()
		res := fmt.Sprintf(`{"type":"res","id":%q,"ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized: gateway password mismatch (set gateway.remote.password to match gateway.auth.password)","details":{"code":"AUTH_PASSWORD_MISMATCH","authReason":"password_mismatch","canRetryWithDeviceToken":false,"recommendedNextStep":"update_auth_configuration"}}}`, req.ID)
		c.Write(ctx, websocket.MessageText, []byte(res))
		c.Close(websocket.StatusPolicyViolation, "unauthorized: gateway password mismatch")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	cg.url = "ws://" + ln.Addr().String()
	return cg
}

// count is how many connect requests reached it.
func (cg *challengeGateway) count() int {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	return len(cg.auths)
}

// lastAuth is the auth of the last connect request, or nil.
func (cg *challengeGateway) lastAuth() map[string]string {
	cg.mu.Lock()
	defer cg.mu.Unlock()
	if len(cg.auths) == 0 {
		return nil
	}
	return cg.auths[len(cg.auths)-1]
}

// TestOpenClawCredentials: the secret presented to the OpenClaw gateway
// that owns the dir is chosen as OpenClaw's clients choose it: by
// gateway.auth.mode, the environment before the file, the flags before
// both, ${VAR} and env secret references followed; what cannot be
// followed is said in words.
func TestOpenClawCredentials(t *testing.T) {
	t.Parallel()
	cg := newChallengeGateway(t)
	port := portOf(t, cg.url)
	e := newEnv(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, auth string
		env        []string
		args       []string
		want       map[string]string // the auth the gateway saw
		fails      []string          // or the words of a refusal before any connect
	}{
		{name: "password mode", auth: `{ mode: "password", password: "pw-in-config", token: "unused" }`,
			want: map[string]string{"password": "pw-in-config"}},
		{name: "password from the environment", auth: `{ mode: "password", password: "pw-in-config" }`,
			env: []string{"OPENCLAW_GATEWAY_PASSWORD=pw-in-env"}, want: map[string]string{"password": "pw-in-env"}},
		{name: "password flag first", auth: `{ mode: "password", password: "pw-in-config" }`,
			env: []string{"OPENCLAW_GATEWAY_PASSWORD=pw-in-env"}, args: []string{"--password-file", pwFile}, want: map[string]string{"password": "from-file"}},
		{name: "variable substituted", auth: `{ mode: "password", password: "${PD_TEST_PW}" }`,
			env: []string{"PD_TEST_PW=pw-in-var"}, want: map[string]string{"password": "pw-in-var"}},
		{name: "env secret reference", auth: `{ mode: "password", password: { source: "env", provider: "default", id: "PD_TEST_PW" } }`,
			env: []string{"PD_TEST_PW=pw-by-ref"}, want: map[string]string{"password": "pw-by-ref"}},
		{name: "token mode", auth: `{ mode: "token", token: "tok-in-config", password: "unused" }`,
			want: map[string]string{"token": "tok-in-config"}},
		{name: "no mode, a password only", auth: `{ password: "only-pw" }`, want: map[string]string{"password": "only-pw"}},
		{name: "mode none", auth: `{ mode: "none" }`, want: map[string]string{}},
		{name: "file secret reference", auth: `{ mode: "password", password: { source: "file", provider: "vault", id: "/gateway/pw" } }`,
			fails: []string{"gateway.auth.password in " + filepath.Join(e.stateDir, "openclaw.json"), `secret reference (source "file")`, "--password-file", "OPENCLAW_GATEWAY_PASSWORD"}},
		{name: "variable not set", auth: `{ mode: "password", password: "${PD_TEST_UNSET}" }`,
			fails: []string{"refers to $PD_TEST_UNSET, which is not set"}},
		{name: "password mode without one", auth: `{ mode: "password" }`,
			fails: []string{"gateway.auth.mode is password, but names no password", "--password-file"}},
	} {
		writeOpenClawConfig(t, e.stateDir, fmt.Sprintf(`{ port: %d, auth: %s }`, port, c.auth), "2026.9.6")
		before := cg.count()
		r := e.runEnv(c.env, append([]string{"nodes", "pending"}, c.args...)...)
		if c.fails != nil {
			checkFailure(t, r, 1, c.fails...)
			if cg.count() != before {
				t.Errorf("%s: connected although the secret could not be found", c.name)
			}
			continue
		}
		if r.code == 0 || cg.count() == before {
			t.Errorf("%s: no connect reached the gateway\n%s", c.name, r)
			continue
		}
		got := cg.lastAuth()
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: auth.%s = %q, want %q (auth %v)", c.name, k, got[k], v, keysOf(got))
			}
		}
		for _, k := range []string{"token", "password"} {
			if _, want := c.want[k]; !want && got[k] != "" {
				t.Errorf("%s: sent auth.%s too", c.name, k)
			}
		}
		if !strings.Contains(r.stderr, "password") {
			t.Errorf("%s: the refusal does not say what was wrong:\n%s", c.name, r)
		}
	}
	// A file pairdeck cannot read as JSON5 is named.
	if err := os.WriteFile(filepath.Join(e.stateDir, "openclaw.json"), []byte("{ gateway: { port: 1,, } }"), 0o600); err != nil {
		t.Fatal(err)
	}
	checkFailure(t, e.run("nodes", "pending"), 1, filepath.Join(e.stateDir, "openclaw.json")+" is not valid JSON5", "openclaw doctor")
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func nowMs() int64 { return time.Now().UnixMilli() }

// TestOpenClawNothingInvented: attached to an OpenClaw 2026.9.6 gateway
// (replayed from a recording), a request the gateway gives no expiry has
// none in the table, the JSON or the watch lines (only how long it has
// waited), and approving one that mints no token says what happened
// instead of showing an empty token to pass on.
func TestOpenClawNothingInvented(t *testing.T) {
	t.Parallel()
	url := openclawtest.New(t, "2026.9.6", "node-connect", "op").URL
	e := newEnv(t)
	writeOpenClawConfig(t, e.stateDir, fmt.Sprintf(`{ port: %d, auth: { mode: "token", token: "test-only-shared-token-2026.9.6" } }`, portOf(t, url)), "2026.9.6")
	before := dirSnapshot(t, e.stateDir)

	const p = "c8c004f9-6124-4860-8624-cfc2f50d977e" // Recorder P's capability request
	r := e.ok("nodes", "pending")
	tb := parseTable(t, r.stdout, ocPendingHeaders...)
	if got := tb.cell(t, p, "EXPIRES"); got != "-" {
		t.Errorf("a request with no expiry shows Expires %q", got)
	}
	if got := tb.cell(t, p, "NAME"); got != "Recorder P" {
		t.Errorf("name %q", got)
	}
	r = e.ok("nodes", "pending", "--json")
	var pending []map[string]any
	decodeStrict(t, r.stdout, &pending)
	if len(pending) == 0 {
		t.Fatalf("no pending requests:\n%s", r)
	}
	for _, req := range pending {
		if _, ok := req["expiresAtMs"]; ok {
			t.Errorf("--json made up an expiry: %v", req)
		}
	}

	w := e.start("nodes", "pending", "--watch")
	if l := w.waitLine("  Recorder P  "); !strings.Contains(l, "waiting") || !strings.Contains(l, " · asked ") || strings.Contains(l, "expires") {
		t.Errorf("watch line of a request with no expiry: %q", l)
	}
	w.cmd.Process.Kill()

	r = e.ok("nodes", "approve", "Recorder P")
	if !strings.Contains(r.stdout, "Approved Recorder P (") || !strings.Contains(r.stdout, "request "+p) ||
		!strings.Contains(r.stdout, "the node continues with its device token") || strings.Contains(r.stdout, "Token (shown once") ||
		strings.Contains(r.stdout, "pass it on") {
		t.Errorf("approve without a token:\n%s", r)
	}
	var res struct {
		RequestID string         `json:"requestId"`
		Node      map[string]any `json:"node"`
		Delivered bool           `json:"delivered"`
		Kind      string         `json:"kind"`
		NoToken   string         `json:"noToken"`
	}
	r = e.ok("nodes", "approve", p, "--json")
	decodeStrict(t, r.stdout, &res)
	if res.RequestID != p || res.Kind != "node" || res.NoToken != "node-uses-device-token" || res.Node["token"] != nil {
		t.Errorf("approve --json: %+v", res)
	}
	checkUntouched(t, e.stateDir, before, "acting through an OpenClaw 2026.9.6 gateway")
}
