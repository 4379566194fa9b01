package cli_test

import (
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/protocol"
)

// historyOut is `nodes history --json`'s result, decoded strictly.
type historyOut struct {
	Events []historyEventOut `json:"events"`
	Next   string            `json:"next"`
}

type historyEventOut struct {
	TS          int64          `json:"ts"`
	Action      string         `json:"action"`
	RequestID   string         `json:"requestId"`
	NodeID      string         `json:"nodeId"`
	DisplayName string         `json:"displayName"`
	IsRepair    bool           `json:"isRepair"`
	Decision    string         `json:"decision"`
	Reason      string         `json:"reason"`
	Actor       protocol.Actor `json:"actor"`
	Attempts    int64          `json:"attempts"`
	FirstTS     int64          `json:"firstTs"`
	LastTS      int64          `json:"lastTs"`
	Fields      map[string]any `json:"fields"`
	Cursor      string         `json:"cursor"`
	By          string         `json:"by"`
}

func historyActions(h historyOut) string {
	var out []string
	for _, ev := range h.Events {
		out = append(out, ev.Action)
	}
	return strings.Join(out, " ")
}

// `nodes history` prints what happened, newest first, with who did it:
// through the running gateway, and with none running from the files,
// writing nothing. --node names nodes the gateway no longer knows too.
func TestNodesHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := e.serve()
	_, kitchen, _ := e.pairedNode("kitchen")
	e.ok("nodes", "rename", "--node", "kitchen", "--name", "Kitchen iPad")
	den := e.pair("den")
	e.ok("nodes", "reject", den.pending.RequestID)
	den.exits(1)
	e.ok("nodes", "remove", "--node", "Kitchen iPad")

	var all historyOut
	e.okJSON(&all, "nodes", "history")
	const want = "removed rejected requested renamed approved requested"
	if got := historyActions(all); got != want {
		t.Fatalf("actions = %q, want %q", got, want)
	}
	if all.Next != "" {
		t.Errorf("the whole log fits, yet next = %q", all.Next)
	}
	for _, ev := range all.Events {
		if ev.By == "" || ev.By != ev.Actor.String() || ev.Cursor == "" || ev.TS == 0 {
			t.Errorf("event %+v: by must be the actor's one form", ev)
		}
	}
	if ev := all.Events[4]; ev.NodeID != kitchen || ev.Decision != "approved" || ev.DisplayName != "kitchen" || ev.Actor.Role != protocol.RoleOperator {
		t.Errorf("approval = %+v", ev)
	}

	// A node the gateway no longer knows: by fingerprint, and by the name
	// the history gives it.
	for _, q := range []string{protocol.Fingerprint(kitchen), "kitchen ipad", kitchen[:8]} {
		var one historyOut
		e.okJSON(&one, "nodes", "history", "--node", q)
		if got := historyActions(one); got != "removed renamed approved requested" {
			t.Errorf("--node %s: %q", q, got)
		}
	}
	e.fails(1, []string{`no node the gateway knows or the history names matches "attic"`}, "nodes", "history", "--node", "attic")

	// Filters and paging.
	var decisions historyOut
	e.okJSON(&decisions, "nodes", "history", "--action", "approved,rejected", "--since", "1h")
	if got := historyActions(decisions); got != "rejected approved" {
		t.Errorf("--action approved,rejected: %q", got)
	}
	var first, rest historyOut
	e.okJSON(&first, "nodes", "history", "--limit", "2")
	e.okJSON(&rest, "nodes", "history", "--limit", "0", "--before", first.Next)
	if len(first.Events) != 2 || first.Next == "" || rest.Next != "" {
		t.Fatalf("pages: %d events next %q, then %d next %q", len(first.Events), first.Next, len(rest.Events), rest.Next)
	}
	if got := historyActions(historyOut{Events: append(first.Events, rest.Events...)}); got != want {
		t.Errorf("two pages = %q, want %q", got, want)
	}

	// On a terminal: plain columns fitted to its width.
	headers := []string{"TIME", "EVENT", "NAME", "NODE", "BY", "NOTE"}
	r := e.runTTY(80, "nodes", "history")
	tb := parseTable(t, r.out, headers...)
	if len(tb.rows) != 6 || tb.rows[1][1] != "rejected" || tb.rows[1][2] != "den" || !strings.HasPrefix(tb.rows[5][5], "from 127.0") {
		t.Errorf("table:\n%s", r.out)
	}
	if !strings.Contains(r.out, "(from the gateway at "+g.url) {
		t.Errorf("no footer saying where the answer came from:\n%s", r.out)
	}
	for _, width := range []int{80, 60} {
		r := e.runTTY(width, "nodes", "history")
		for _, l := range strings.Split(strings.TrimRight(r.out, "\n"), "\n") {
			if w := ansi.StringWidth(l); w > width && !strings.HasPrefix(l, "(from") {
				t.Errorf("%d columns: line of %d: %q", width, w, l)
			}
		}
		if width == 60 && strings.Contains(r.out, "NODE") {
			t.Errorf("60 columns keep the fingerprint column:\n%s", r.out)
		}
	}

	// No gateway: the same history from the files, nothing written.
	g.stop()
	before := dirState(t, e.stateDir)
	var offline historyOut
	e.okJSON(&offline, "nodes", "history")
	if got := historyActions(offline); got != want {
		t.Errorf("offline actions = %q, want %q", got, want)
	}
	for i := range all.Events {
		if a, b := all.Events[i], offline.Events[i]; a.Cursor != b.Cursor || a.By != b.By || a.TS != b.TS {
			t.Errorf("offline event %d = %+v, online %+v", i, b, a)
		}
	}
	var gone historyOut
	e.okJSON(&gone, "nodes", "history", "--node", "den")
	if got := historyActions(gone); got != "rejected requested" {
		t.Errorf("offline --node den: %q", got)
	}
	r = e.runTTY(80, "nodes", "history", "--limit", "3")
	if !strings.Contains(r.out, "(from state dir "+e.stateDir+" (no gateway running))") || !strings.Contains(r.out, "older events not shown") {
		t.Errorf("offline on a terminal:\n%s", r.out)
	}
	if after := dirState(t, e.stateDir); !slices.Equal(before, after) {
		t.Errorf("offline history changed the state dir:\nbefore %q\nafter  %q", before, after)
	}
}

// dirState lists every file under dir with its size, mode and mtime.
func dirState(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		out = append(out, strings.Join([]string{path, fi.Mode().String(), fi.ModTime().String(), strconv.FormatInt(fi.Size(), 10)}, " "))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Bad flags exit 2 naming what they take; an empty log says so.
func TestNodesHistoryUsage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.fails(2, []string{`--since "3x"`, "7d", "2026-05-01"}, "nodes", "history", "--since", "3x")
	e.fails(2, []string{"in the future"}, "nodes", "history", "--since", "2999-01-01")
	e.fails(2, []string{`--action "aproved"`, "approved, rejected"}, "nodes", "history", "--action", "aproved")
	e.fails(2, []string{"--limit -1"}, "nodes", "history", "--limit", "-1")
	e.fails(1, []string{"has no pairing state (no nodes/ directory)"}, "nodes", "history")
	e.fails(1, []string{"does not exist"}, "nodes", "history", "--state-dir", filepath.Join(e.stateDir, "nowhere"))

	g := e.serve()
	r := e.ok("nodes", "history")
	if r.stdout != "No history matches.\n" {
		t.Errorf("empty log: %q", r.stdout)
	}
	e.fails(1, []string{"not a cursor"}, "nodes", "history", "--before", "x")
	g.stop()
	e.fails(1, []string{"not a cursor"}, "nodes", "history", "--before", "x")
}

// An OpenClaw gateway keeps no history pairdeck can read: one line says so.
func TestOpenClawHistoryExplainedInOneLine(t *testing.T) {
	t.Parallel()
	e, _ := openclawEnv(t, oc96, "node-connect", "op")
	r := e.fails(1, []string{"history of decisions is a pairdeck gateway feature", "2026.9.6"}, "nodes", "history")
	if strings.Contains(r.stderr, "unknown method") {
		t.Errorf("raw refusal: %s", r.stderr)
	}
}

// cliActor is how the CLI run by this test's user shows as an actor:
// "cli user@host" (protocol.Actor's form; the host's first label).
func cliActor(t *testing.T) string {
	t.Helper()
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	return "cli " + u.Username + "@" + host
}
