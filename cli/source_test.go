package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReadOnlyCommandsCreateNothing: a state dir that does not exist is an
// error that says so, and is not created; commands that only read create
// no identity; ~ in the state dir is the home directory.
func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := filepath.Join(t.TempDir(), "nonexistent")
	for _, args := range [][]string{
		{"nodes", "pending"}, {"nodes", "status"}, {"nodes", "list", "--json"}, {"nodes", "blocked"},
		{"pairing", "status"}, {"nodes", "approve", "x"}, {"nodes", "rename", "--node", "x", "--name", "y"},
	} {
		r := e.run(append(args, "--state-dir", missing)...)
		checkFailure(t, r, 1, "state dir "+missing+" does not exist", "pairdeck serve --state-dir "+missing, "--url")
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("a command created the missing state dir: %v", err)
	}

	// Through a running gateway, reading creates no identity; acting does.
	g := e.serve()
	idPath := filepath.Join(e.stateDir, "identity", "device.json")
	for _, args := range [][]string{{"nodes", "pending"}, {"nodes", "status"}, {"nodes", "list"}, {"nodes", "blocked"}, {"pairing", "status"}} {
		e.ok(args...)
	}
	if _, err := os.Stat(idPath); !os.IsNotExist(err) {
		t.Errorf("a read-only command created %s: %v", idPath, err)
	}
	pr := e.pair("writer")
	e.ok("nodes", "approve", "writer")
	pr.exits(0)
	if _, err := os.Stat(idPath); err != nil {
		t.Errorf("approving did not keep this machine's operator identity: %v", err)
	}
	// From another machine (state dir), reading leaves it empty.
	other := newEnv(t)
	if r := other.runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=" + g.token}, "nodes", "status", "--url", g.url); r.code != 0 {
		t.Fatalf("remote status:\n%s", r)
	}
	if ents, _ := os.ReadDir(other.stateDir); len(ents) != 0 {
		t.Errorf("a remote read wrote to the local state dir: %v", ents)
	}

	// ~ is the home directory, in the environment and in --state-dir=.
	h := newEnv(t)
	if err := os.MkdirAll(filepath.Join(h.home, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, r := range []result{
		h.runEnv([]string{"OPENCLAW_STATE_DIR=~/x"}, "nodes", "pending", "-v"),
		h.run("nodes", "pending", "-v", "--state-dir=~/x"),
	} {
		if r.code != 0 || !strings.Contains(r.stderr, "from state dir "+filepath.Join(h.home, "x")+" (no gateway running)") {
			t.Errorf("~ not expanded:\n%s", r)
		}
	}
	if _, err := os.Stat("~"); !os.IsNotExist(err) {
		t.Errorf("a dir literally named ~ was created: %v", err)
		os.RemoveAll("~")
	}
}

// TestAnswersSayWhereTheyCameFrom: with -v on stderr, and as a last line
// on a terminal; never in --json or a bare count.
func TestAnswersSayWhereTheyCameFrom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.ok("pairing", "status") // offline; makes the state dir's files
	r := e.run("nodes", "pending", "-v")
	if want := "pairdeck: from state dir " + e.stateDir + " (no gateway running)\n"; r.code != 0 || r.stderr != want || r.stdout != "No pending requests.\n" {
		t.Errorf("offline -v:\n%s", r)
	}
	g := e.serve()
	local := "the gateway at " + g.url + " (running for " + e.stateDir + ")"
	r = e.run("nodes", "status", "-v", "--json")
	if r.code != 0 || r.stderr != "pairdeck: from "+local+"\n" || !strings.HasPrefix(r.stdout, "{") {
		t.Errorf("local -v --json:\n%s", r)
	}
	remote := newEnv(t).runEnv([]string{"OPENCLAW_GATEWAY_TOKEN=" + g.token}, "pairing", "status", "-v", "--url", g.url)
	if remote.stderr != "pairdeck: from the gateway at "+g.url+"\n" {
		t.Errorf("remote -v:\n%s", remote)
	}

	tty := e.runTTY(100, "nodes", "pending")
	lines := strings.Split(strings.TrimSuffix(tty.out, "\n"), "\n")
	if tty.code != 0 || lines[len(lines)-1] != "(from "+local+")" {
		t.Errorf("terminal footer:\n%s", tty)
	}
	for _, args := range [][]string{{"nodes", "pending", "--json"}, {"nodes", "pending", "--count"}} {
		if out := e.runTTY(100, args...).out; strings.Contains(out, "(from ") {
			t.Errorf("%s on a terminal has a footer:\n%s", strings.Join(args, " "), out)
		}
	}
	w := e.startTTY(100, "nodes", "pending", "--watch")
	w.waitFor(`^Following ` + regexp.QuoteMeta(local) + `\.$`)
}
