package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// hintRE finds the command a message tells the user to run.
var hintRE = regexp.MustCompile("`(pairdeck [^`]*)`")

// shellWords splits a hint as a POSIX shell would, for the single quotes
// pairdeck uses.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inQuote, started := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			inQuote, started = !inQuote, true
		case r == ' ' && !inQuote:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

// TestNodeHintsWorkAsPrinted: every command a node-side message suggests
// runs as printed, --node-dir included, even for a dir with a space.
func TestNodeHintsWorkAsPrinted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.serve()
	dir := filepath.Join(t.TempDir(), "my node")
	pr := e.start("node", "pair", "--node-dir", dir, "--name", "Garage Pi")
	pr.waitLine("Waiting for an operator")
	e.ok("nodes", "approve", "garage pi")
	pr.exits(0)
	l := pr.waitLine("Approved.")
	m := hintRE.FindStringSubmatch(l)
	if m == nil || !strings.Contains(m[1], "--node-dir '"+dir+"'") {
		t.Fatalf("approved line has no connect hint with the node dir: %q", l)
	}
	words := shellWords(t, m[1])
	c := e.start(words[1:]...)
	if got := c.next(); !strings.HasPrefix(got, "connected: ") {
		t.Errorf("the printed hint %s did not connect: %q", m[1], got)
	}
	c.signal(syscall.SIGINT)
	c.exits(130)

	// An expired request says how to ask again, as a command that works.
	e2 := newEnv(t)
	e2.serve("--ttl", "1s")
	dir2 := filepath.Join(t.TempDir(), "n2")
	r := e2.run("node", "pair", "--node-dir", dir2, "--name", "short lived", "--wait", "0")
	if r.code != 124 {
		t.Fatalf("want exit 124 on expiry:\n%s", r)
	}
	checkErrLine(t, r.stderr, "expired")
	m = hintRE.FindStringSubmatch(r.stderr)
	if m == nil || m[1] != "pairdeck node pair --node-dir "+dir2+" --name 'short lived'" {
		t.Fatalf("expired hint: %q", r.stderr)
	}
	again := e2.start(append(shellWords(t, m[1])[1:], "--json")...)
	var ev pairEvent
	again.nextJSON(&ev)
	if ev.Event != "pending" || ev.NodeID == "" {
		t.Errorf("the printed hint did not ask again: %+v", ev)
	}
	again.signal(syscall.SIGINT)
	again.exits(130)

	// A node dir that never paired says how to pair or to use a token.
	d3 := filepath.Join(t.TempDir(), "n3")
	e.pair("n3", "--node-dir", d3, "--wait", "1s").exits(124)
	r = e.run("node", "connect", "--node-dir", d3)
	checkFailure(t, r, 1, "no "+filepath.Join(d3, "node.json"), "pairdeck node connect --node-dir "+d3+" --token-file FILE")

	// --token-file - reads the operator's token from stdin.
	var ap approveJSON
	e.okJSON(&ap, "nodes", "approve", "n3")
	if ap.Delivered == nil || *ap.Delivered {
		t.Fatalf("approval of a node that gave up: %+v", ap)
	}
	if _, err := os.Stat(filepath.Join(d3, "node.json")); !os.IsNotExist(err) {
		t.Fatalf("node.json before the token was given: %v", err)
	}
	// A wrong token is refused and not stored.
	r = e.runStdin("not-the-token\n", "node", "connect", "--node-dir", d3, "--token-file", "-")
	checkFailure(t, r, 1, "refused this node's token")
	if _, err := os.Stat(filepath.Join(d3, "node.json")); !os.IsNotExist(err) {
		t.Errorf("a refused token was stored: %v", err)
	}
}
