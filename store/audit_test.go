package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestAuditLinesForEveryChange(t *testing.T) {
	s, clk := openTest(t)
	req := mustRequest(t, s, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "One"}})
	mustRequest(t, s, RequestInput{NodeID: "n1"})
	tok := mustApprove(t, s, req.RequestID).Token
	repair := mustRequest(t, s, RequestInput{NodeID: "n1"})
	if _, err := s.Reject(ctx, operator, repair.RequestID); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(ctx, operator, "n1", "Renamed"); err != nil {
		t.Fatal(err)
	}
	mustRequest(t, s, RequestInput{NodeID: "n2"})
	clk.Add(DefaultTTL)
	if _, err := s.ExpireDue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, operator, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkConnected(ctx, "n1"); !errors.Is(err, ErrUnknownNode) {
		t.Fatal(err)
	}

	lines := auditLines(t, s)
	var actions []string
	for _, l := range lines {
		actions = append(actions, l["action"].(string))
	}
	want := []string{"requested", "refreshed", "approved", "requested", "rejected", "renamed", "requested", "expired", "removed"}
	if !slices.Equal(actions, want) {
		t.Fatalf("actions %v, want %v", actions, want)
	}
	approved := lines[2]
	if approved["requestId"] != req.RequestID || approved["nodeId"] != "n1" || approved["decision"] != "approved" || approved["displayName"] != "One" {
		t.Errorf("approved line %v", approved)
	}
	if a := approved["actor"].(map[string]any); a["clientId"] != "cli" || a["role"] != "operator" || a["user"] != "alice" {
		t.Errorf("actor %v", a)
	}
	if lines[3]["isRepair"] != true || lines[4]["isRepair"] != true {
		t.Errorf("repair request lines lack isRepair: %v / %v", lines[3], lines[4])
	}
	if lines[0]["actor"].(map[string]any)["remoteAddr"] != "127.0.0.1:5000" {
		t.Errorf("node actor %v", lines[0]["actor"])
	}
	if ts := lines[7]["ts"].(float64); int64(ts) != clk.Ms() {
		t.Errorf("expired line ts %v, want %d", ts, clk.Ms())
	}

	raw := string(readFile(t, filepath.Join(s.Dir(), auditFile)))
	hash := tokenHash(tok)
	if strings.Contains(raw, tok) || strings.Contains(raw, hash) || strings.Contains(raw, `"token`) {
		t.Fatalf("audit log contains a secret:\n%s", raw)
	}
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func TestAuditCustomEvent(t *testing.T) {
	s, _ := openTest(t)
	err := s.Audit(ctx, node, "token-refused", map[string]any{
		"nodeId": "n9", "reason": "mismatch", "token": "leaked!", "authToken": "leaked2",
		"ts": 1, "action": "approved", "actor": "someone else", "attempts": 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	l := auditLines(t, s)[0]
	if l["action"] != "token-refused" || l["nodeId"] != "n9" || l["reason"] != "mismatch" || l["attempts"] != float64(3) {
		t.Fatalf("line %v", l)
	}
	if l["token"] != "[redacted]" || l["authToken"] != "[redacted]" {
		t.Fatalf("secret-looking fields not redacted: %v", l)
	}
	if l["ts"] == float64(1) || l["actor"].(map[string]any)["role"] != "node" {
		t.Fatalf("reserved members overridden: %v", l)
	}
	if raw := string(readFile(t, filepath.Join(s.Dir(), auditFile))); strings.Contains(raw, "leaked") {
		t.Fatal("secret written")
	}
	for _, bad := range []string{"", "has space", strings.Repeat("a", 65)} {
		if err := s.Audit(ctx, node, bad, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Audit(%q) = %v", bad, err)
		}
	}
	if err := s.Audit(ctx, node, "x", map[string]any{"nodeId": 5}); !errors.Is(err, ErrInvalid) {
		t.Errorf("non-string nodeId: %v", err)
	}
	if err := s.Audit(ctx, node, "x", map[string]any{"f": func() {}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unencodable field: %v", err)
	}
}

// A torn last line is what a crash in the middle of a write leaves; it is
// cut (the lines of a committed batch are written again from the journal).
func TestAuditTornLastLineIsCutAtOpen(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(nodes, 0o700)
	os.WriteFile(filepath.Join(nodes, auditFile), []byte("{\"ts\":1,\"action\":\"requested\"}\n{\"ts\":2,\"act"), 0o600)
	clk := newClock()
	s, err := Open(Options{StateDir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustRequest(t, s, RequestInput{NodeID: "n1"})
	data := strings.Split(strings.TrimSpace(string(readFile(t, filepath.Join(nodes, auditFile)))), "\n")
	if len(data) != 2 || data[0] != `{"ts":1,"action":"requested"}` || !strings.HasPrefix(data[1], `{"ts":`+strconv.FormatInt(clk.Ms(), 10)) {
		t.Fatalf("torn line kept, or the new one glued to it: %q", data)
	}
}
