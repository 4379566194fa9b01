package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func historyActions(p protocol.HistoryPage) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.Action+" "+e.NodeID)
	}
	return out
}

func TestHistoryNewestFirstWithActorsFiltersAndPages(t *testing.T) {
	s, clk := openTest(t)
	for i := range 5 {
		id := fmt.Sprintf("n%d", i)
		req := mustRequest(t, s, RequestInput{NodeID: id})
		clk.Add(time.Second)
		if i%2 == 0 {
			mustApprove(t, s, req.RequestID)
		} else if _, err := s.Reject(ctx, operator, req.RequestID); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Second)
	}
	page, err := s.History(protocol.HistoryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"approved n4", "requested n4", "rejected n3", "requested n3", "approved n2", "requested n2", "rejected n1", "requested n1", "approved n0", "requested n0"}
	if got := historyActions(page); !slices.Equal(got, want) {
		t.Fatalf("history %v\nwant %v", got, want)
	}
	if page.Next != "" {
		t.Fatalf("one page holds everything, but next = %q", page.Next)
	}
	first := page.Events[0]
	if first.Actor.ClientID != "cli" || first.Actor.User != "alice" || first.Decision != "approved" || first.RequestID == "" || first.TS != clk.Ms()-1000 {
		t.Fatalf("event %+v", first)
	}
	if page.Events[1].Actor.Role != "node" {
		t.Fatalf("request's actor %+v", page.Events[1].Actor)
	}

	// One node; decisions only; since.
	page, _ = s.History(protocol.HistoryQuery{NodeID: "n2"})
	if got := historyActions(page); !slices.Equal(got, []string{"approved n2", "requested n2"}) {
		t.Fatalf("node filter: %v", got)
	}
	page, _ = s.History(protocol.HistoryQuery{Actions: []string{"approved", "rejected"}})
	if got := historyActions(page); len(got) != 5 || got[0] != "approved n4" {
		t.Fatalf("action filter: %v", got)
	}
	page, _ = s.History(protocol.HistoryQuery{SinceMs: clk.Ms() - 4000})
	if got := historyActions(page); !slices.Equal(got, want[:4]) {
		t.Fatalf("since: %v", got)
	}

	// Pages of three, backwards, until next is empty.
	var all []string
	before := ""
	for range 10 {
		page, err := s.History(protocol.HistoryQuery{Limit: 3, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, historyActions(page)...)
		if page.Next == "" {
			break
		}
		before = page.Next
	}
	if !slices.Equal(all, want) {
		t.Fatalf("paged %v\nwant %v", all, want)
	}
	if _, err := s.History(protocol.HistoryQuery{Before: "nonsense"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := s.History(protocol.HistoryQuery{Limit: -1}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative limit: %v", err)
	}
}

// History reads across rotations, and a cursor stays valid when the file
// it points into is rotated.
func TestHistoryAcrossRotations(t *testing.T) {
	setVar(t, &auditRotateBytes, 2048)
	setVar(t, &auditKeep, 100)
	s, clk := openTest(t)
	var want []string
	cursor := ""
	for i := range 60 {
		id := fmt.Sprintf("n%02d", i)
		mustRequest(t, s, RequestInput{NodeID: id, NodeMeta: protocol.NodeMeta{DisplayName: "Node " + id}})
		want = append(want, "requested "+id)
		clk.Add(time.Second)
		if i%10 == 9 {
			checkpoint(t, s) // rotations happen as a checkpoint starts
		}
		if i == 35 {
			p, _ := s.History(protocol.HistoryQuery{Limit: 1})
			cursor = p.Next // points at n35's line, in audit.jsonl
		}
	}
	rotated, _ := listRotatedAudit(s.Dir())
	if len(rotated) < 3 {
		t.Fatalf("rotated files: %v", rotated)
	}
	slices.Reverse(want)
	page, err := s.History(protocol.HistoryQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if got := historyActions(page); !slices.Equal(got, want) {
		t.Fatalf("across rotations %v\nwant %v", got, want)
	}
	page, _ = s.History(protocol.HistoryQuery{Before: cursor, Limit: 2})
	if got := historyActions(page); !slices.Equal(got, []string{"requested n34", "requested n33"}) {
		t.Fatalf("a cursor into a rotated file: %v", got)
	}
	// Without the store: the same.
	page2, err := ReadHistory(s.stateDir, protocol.HistoryQuery{Limit: 1000})
	if err != nil || !slices.Equal(historyActions(page2), want) {
		t.Fatalf("ReadHistory: %v", err)
	}
	if _, err := ReadHistory(t.TempDir(), protocol.HistoryQuery{}); err == nil || !strings.Contains(err.Error(), "no pairing state") {
		t.Fatalf("ReadHistory of an empty dir: %v", err)
	}
}

func TestAuditRotationKeepsAFew(t *testing.T) {
	setVar(t, &auditRotateBytes, 1024)
	setVar(t, &auditKeep, 2)
	s, _ := openTest(t)
	for i := range 40 {
		mustRequest(t, s, RequestInput{NodeID: fmt.Sprintf("n%d", i)})
		if i%5 == 4 {
			checkpoint(t, s)
		}
	}
	rotated, _ := listRotatedAudit(s.Dir())
	if len(rotated) != 2 {
		t.Fatalf("rotated files kept: %v, want 2", rotated)
	}
	for _, n := range rotated {
		if fi, err := os.Stat(filepath.Join(s.Dir(), rotatedAuditName(n))); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("rotated file %d: %v", n, err)
		}
	}
}

// A count of refusals, as the gateway writes it, reads back with its
// numbers; members History has no field for come in Fields.
func TestHistoryOfARefusalCount(t *testing.T) {
	s, _ := openTest(t)
	if err := s.Audit(ctx, node, "token-refused", map[string]any{"nodeId": "n1", "attempts": 7, "firstTs": 10, "lastTs": 20, "network": "10.0.0.0/24"}); err != nil {
		t.Fatal(err)
	}
	page, err := s.History(protocol.HistoryQuery{NodeID: "n1"})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("%+v, %v", page, err)
	}
	ev := page.Events[0]
	if ev.Attempts != 7 || ev.FirstTS != 10 || ev.LastTS != 20 || string(ev.Fields["network"]) != `"10.0.0.0/24"` || ev.Actor.Role != "node" {
		t.Fatalf("event %+v", ev)
	}
	if _, has := ev.Fields["seq"]; has {
		t.Fatal("seq is the store's bookkeeping, not history")
	}
}
