package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// The cached list is byte for byte what encoding the records gives, after
// every kind of change, and shows neither secrets nor expired requests.
func TestListJSONMatchesTheRecords(t *testing.T) {
	s, clk := openTest(t, func(o *Options) { o.TTL = time.Minute })
	check := func(step string) {
		t.Helper()
		want, err := json.Marshal(protocol.PairListResult{Pending: s.Pending(), Paired: s.Paired()})
		if err != nil {
			t.Fatal(err)
		}
		got := s.AppendListJSON([]byte("x"))
		if !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Fatalf("%s: list\n got %s\nwant x%s", step, got, want)
		}
		if bytes.Contains(got, []byte("tokenSha256")) || bytes.Contains(got, []byte(`"token"`)) {
			t.Fatalf("%s: list shows a secret: %s", step, got)
		}
		// Twice: the second comes from the caches.
		if again := s.AppendListJSON(nil); !bytes.Equal(again, want) {
			t.Fatalf("%s: cached list differs:\n%s\n%s", step, again, want)
		}
	}
	check("empty")
	for i := range 5 {
		mustRequest(t, s, RequestInput{NodeID: fmt.Sprintf("n%d", i), NodeMeta: protocol.NodeMeta{DisplayName: "R&D <lab> " + fmt.Sprint(i), Commands: []string{"system.run"}}})
	}
	check("requests with equal timestamps")
	clk.Add(time.Second)
	r1 := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{Platform: "linux"}})
	check("refresh moves a request to the top")
	for _, id := range []string{"n2", "n3"} {
		r, _ := s.PendingForNode(id)
		mustApprove(t, s, r.RequestID)
		clk.Add(time.Millisecond)
	}
	check("approvals")
	if err := s.Rename(ctx, operator, "n2", "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(ctx, operator, "n1", "renamed pending"); err != nil {
		t.Fatal(err)
	}
	check("renames")
	if err := s.MarkConnected(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	check("connected")
	if err := s.Remove(ctx, operator, "n2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reject(ctx, operator, r1.RequestID); err != nil {
		t.Fatal(err)
	}
	check("remove and reject")
	clk.Add(time.Minute - time.Second) // the first requests are due but not swept
	check("expired, not swept")
	mustRequest(t, s, RequestInput{NodeID: "late"})
	check("swept by a change")
	s = reopen(t, s, clk)
	check("reopened")
}

// Records written by another gateway: a legacy token and unknown fields
// stay out of the list.
func TestListJSONOfForeignRecords(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "nodes"), 0o700)
	paired := `{"n1": {"nodeId": "n1", "token": "legacy-plaintext", "displayName": "Old", "createdAtMs": 1, "approvedAtMs": 2, "future": {"x": 1}}}`
	if err := os.WriteFile(filepath.Join(dir, "nodes", pairedFile), []byte(paired), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	s, err := Open(Options{StateDir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := string(s.AppendListJSON(nil))
	want := `{"pending":[],"paired":[{"nodeId":"n1","displayName":"Old","createdAtMs":1,"approvedAtMs":2}]}`
	if got != want {
		t.Fatalf("list\n got %s\nwant %s", got, want)
	}
}
