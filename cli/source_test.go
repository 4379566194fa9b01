package cli_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
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

// TestReadOnlyCommandsOnAReadOnlyStateDir: with no gateway running, the
// commands that only read answer from a state dir nobody may write, and
// change nothing in it (no lock file, no audit line, no mode); a change
// there is refused with what to do.
func TestReadOnlyCommandsOnAReadOnlyStateDir(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	e.pairedNode("ro-paired")
	waiting := e.pair("ro-waiting")
	g.stop()
	waiting.signal(syscall.SIGINT)
	waiting.wait()
	if os.Getuid() == 0 {
		e.asUser(t, 65534) // modes do not stop root
	}
	var dirs []string
	filepath.WalkDir(e.stateDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		} else if err == nil {
			os.Chmod(path, 0o400)
		}
		return err
	})
	for _, d := range dirs {
		os.Chmod(d, 0o500)
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			os.Chmod(d, 0o700)
		}
	})
	before := treeState(t, e.stateDir)

	if r := e.ok("nodes", "pending"); !strings.Contains(r.stdout, "ro-waiting") {
		t.Errorf("pending:\n%s", r)
	}
	if r := e.ok("nodes", "status"); !strings.Contains(r.stdout, "ro-paired") || !strings.Contains(r.stdout, "ro-waiting") {
		t.Errorf("status:\n%s", r)
	}
	var list struct {
		Paired []struct{ DisplayName string } `json:"paired"`
	}
	if r := e.ok("nodes", "list", "--json"); json.Unmarshal([]byte(r.stdout), &list) != nil || len(list.Paired) != 1 || list.Paired[0].DisplayName != "ro-paired" {
		t.Errorf("list:\n%s", r)
	}
	e.ok("nodes", "blocked")
	e.ok("pairing", "status")
	if r := e.run("nodes", "pending", "-v"); r.code != 0 || !strings.Contains(r.stderr, "state dir "+e.stateDir+" (no gateway running)") {
		t.Errorf("pending -v:\n%s", r)
	}
	if after := treeState(t, e.stateDir); after != before {
		t.Errorf("a read-only command changed the state dir:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	nodes := filepath.Join(e.stateDir, "nodes")
	e.fails(1, []string{"cannot be written: " + nodes, "chmod 700 " + nodes}, "nodes", "rename", "--node", "ro-paired", "--name", "x")
}

// treeState is every entry under root with its mode, size, time and
// content.
func treeState(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %v %d %d", path, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			data, _ := os.ReadFile(path)
			fmt.Fprintf(&b, " %x", sha256.Sum256(data))
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestReadOnlyCommandsReportLooseModes: a command that only reads leaves a
// loose mode as it is and says so on stderr; a change tightens it.
func TestReadOnlyCommandsReportLooseModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	e.pairedNode("loose")
	g.stop()
	paired := filepath.Join(e.stateDir, "nodes", "paired.json")
	if err := os.Chmod(paired, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run("nodes", "pending")
	if r.code != 0 || r.stdout != "No pending requests.\n" ||
		!strings.Contains(r.stderr, "pairdeck: "+paired+" has mode 0644, looser than the 0600 pairdeck keeps: left as it is") {
		t.Errorf("pending on a loose file:\n%s", r)
	}
	checkMode(t, paired, 0o644)
	e.ok("pairing", "off")
	checkMode(t, paired, 0o600)
}
