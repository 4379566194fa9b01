package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tokenInArgv finds an example that puts a token on the command line:
// --token "$T", --token "$(cat f)", --token T, --token <t>.
var tokenInArgv = regexp.MustCompile(`--token[ =]["$<A-Z]`)

// TestDecisionsByWhatTheOperatorSees: approve and reject take a request id
// prefix, a node name, id, fingerprint or IP, through the same resolver as
// --node; ambiguity lists the candidates; a node without a pending request
// is told apart from no match at all.
func TestDecisionsByWhatTheOperatorSees(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	kitchen := e.pair("Kitchen Display")
	ipad := e.pair("Living Room iPad")
	hall := e.pair("Hallway Echo")
	box := e.pair("build box")
	twin := e.pair("build-box")

	// By fingerprint, the form every list shows.
	var ap approveJSON
	e.okJSON(&ap, "nodes", "approve", kitchen.pending.Fingerprint)
	if ap.RequestID != kitchen.pending.RequestID {
		t.Errorf("approve by fingerprint approved %s, want %s", ap.RequestID, kitchen.pending.RequestID)
	}
	kitchen.exits(0)
	// By name, case and spacing ignored.
	e.okJSON(&ap, "nodes", "approve", "living-room ipad")
	if ap.RequestID != ipad.pending.RequestID {
		t.Errorf("approve by name approved %s", ap.RequestID)
	}
	ipad.exits(0)
	// By a request id prefix (the table's 8 characters, or fewer).
	var rj rejectJSON
	e.okJSON(&rj, "nodes", "reject", hall.pending.RequestID[:8])
	if rj.RequestID != hall.pending.RequestID {
		t.Errorf("reject by prefix rejected %s", rj.RequestID)
	}
	hall.exits(1)

	// Two nodes whose names normalise alike: refused, both listed.
	r := e.run("nodes", "approve", "BUILD BOX")
	checkFailure(t, r, 1, `"BUILD BOX" matches 2 nodes by name`, box.pending.NodeID, twin.pending.NodeID)
	// The full node id picks one.
	e.okJSON(&rj, "nodes", "reject", box.pending.NodeID)
	if rj.RequestID != box.pending.RequestID {
		t.Errorf("reject by node id rejected %s", rj.RequestID)
	}
	box.exits(1)
	// Only one pending request is from 127.0.0.1 now: the IP names it.
	e.okJSON(&rj, "nodes", "reject", "127.0.0.1")
	if rj.RequestID != twin.pending.RequestID {
		t.Errorf("reject by IP rejected %s", rj.RequestID)
	}
	twin.exits(1)

	// A paired node has no pending request: said so, by name.
	e.fails(1, []string{"Kitchen Display (" + kitchen.pending.Fingerprint + ") has no pending request", "it is paired"},
		"nodes", "approve", "kitchen display")
	e.fails(1, []string{`no pending request matches "nobody"`}, "nodes", "reject", "nobody")
	// A decided request's full id still gets the gateway's account of it.
	e.fails(1, []string{"already rejected"}, "nodes", "approve", hall.pending.RequestID)

	// Two requests whose ids share a prefix: refused with both listed.
	a, b := e.pair("alpha"), e.pair("beta")
	common := 0
	for common < 8 && a.pending.RequestID[common] == b.pending.RequestID[common] {
		common++
	}
	if common >= 4 {
		checkFailure(t, e.run("nodes", "approve", a.pending.RequestID[:common]), 1, "matches 2 pending requests", a.pending.RequestID, b.pending.RequestID)
	}
}

// TestVerifyResolvesAndTellsWhy: verify takes --node like the rest, reads
// the node's token from a file or stdin (never needing argv), and tells a
// missing node, an unpaired one and a wrong token apart.
func TestVerifyResolvesAndTellsWhy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	_, nodeID, token := e.pairedNode("Garage Pi")
	asking := e.pair("asking")
	fp := nodeID[0:4] + ":" + nodeID[4:8] + ":" + nodeID[8:12]

	file := filepath.Join(t.TempDir(), "node-token")
	if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "Token is valid for Garage Pi (" + fp + ").\n"
	for name, r := range map[string]result{
		"--token-file":          e.run("nodes", "verify", "--node", "garage pi", "--token-file", file),
		"--token-file -":        e.runStdin(token+"\n", "nodes", "verify", "--node", fp, "--token-file", "-"),
		"piped stdin":           e.runStdin(token, "nodes", "verify", "--node", nodeID[:8]),
		"--token (still works)": e.run("nodes", "verify", "--node", nodeID, "--token", token),
	} {
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("verify with %s:\n%s", name, r)
		}
	}
	// On a terminal it asks, without echo.
	tty := e.runTTYTyping(80, nil, []typing{{"Node token: ", token}}, "nodes", "verify", "--node", "garage pi")
	if tty.code != 0 || !strings.Contains(tty.out, want) || strings.Contains(tty.out, token) {
		t.Errorf("verify typed at a prompt (the token must not echo):\n%s", tty)
	}

	e.fails(1, []string{"does not verify for Garage Pi (" + fp + ")", "not the node's current token"},
		"nodes", "verify", "--node", "garage pi", "--token", strings.Repeat("A", 43))
	e.fails(1, []string{`no node matches "nobody"`}, "nodes", "verify", "--node", "nobody", "--token-file", file)
	e.fails(1, []string{"asking (" + asking.pending.Fingerprint + ") is not paired"}, "nodes", "verify", "--node", "asking", "--token-file", file)
	missing := filepath.Join(t.TempDir(), "nope")
	e.fails(1, []string{"node token file " + missing + " does not exist"}, "nodes", "verify", "--node", "garage pi", "--token-file", missing)
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	e.fails(1, []string{"node token in " + empty + " is empty"}, "nodes", "verify", "--node", "garage pi", "--token-file", empty)
}

// TestOperatorTokenFromAFile: --token-file (or stdin) gives the operator
// token without putting it in argv; --token's help says what it costs, and
// no help text suggests putting a secret on the command line.
func TestOperatorTokenFromAFile(t *testing.T) {
	t.Parallel()
	server := newEnv(t)
	g := server.serve()
	e := newEnv(t)
	file := filepath.Join(t.TempDir(), "op-token")
	if err := os.WriteFile(file, []byte(g.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := e.run("nodes", "pending", "--count", "--url", g.url, "--token-file", file); r.code != 0 || r.stdout != "0\n" {
		t.Errorf("--token-file:\n%s", r)
	}
	if r := e.runStdin(g.token, "nodes", "pending", "--count", "--url", g.url, "--token-file", "-"); r.code != 0 || r.stdout != "0\n" {
		t.Errorf("--token-file -:\n%s", r)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("wrong\n"), 0o600)
	e.fails(1, []string{"refused the operator token", "--token-file"}, "nodes", "pending", "--url", g.url, "--token-file", wrong)

	// serve takes its token from a file too, and says where it came from
	// without showing it.
	s2 := newEnv(t)
	srv := s2.serve("--token-file", file)
	if r := e.run("nodes", "pending", "--count", "--url", srv.url, "--token-file", file); r.code != 0 {
		t.Errorf("a gateway started with --token-file refuses its token:\n%s", r)
	}
	srv.stop()
	if log := srv.stderr.String(); !strings.Contains(log, "--token-file "+file) || strings.Contains(log, g.token) {
		t.Errorf("serve's log must name the token file and never the token:\n%s", log)
	}

	for _, args := range [][]string{{"serve"}, {"console"}, {"nodes"}, {"nodes", "pending"}, {"pairing"}, {"nodes", "verify"}, {}} {
		h := e.ok(append(args, "--help")...).stdout
		if tokenInArgv.MatchString(h) {
			t.Errorf("pairdeck %s --help suggests a secret in argv:\n%s", strings.Join(args, " "), h)
		}
		if strings.Contains(h, "--token ") && !strings.Contains(h, "visible to every local user") {
			t.Errorf("pairdeck %s --help has --token without its warning:\n%s", strings.Join(args, " "), h)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if tokenInArgv.MatchString(string(readme)) {
		t.Errorf("README suggests a secret in argv")
	}
}
