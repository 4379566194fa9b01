package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// The trace's pending.json after `node.pair.request {"nodeId":"n1","displayName":"Test"}`.
const tracePendingN1 = `{
  "44a1f673-0f77-485a-adf8-00bf4a50151a": {
    "requestId": "44a1f673-0f77-485a-adf8-00bf4a50151a",
    "nodeId": "n1",
    "displayName": "Test",
    "silent": false,
    "ts": 1795262299140
  }
}`

// The trace's pending.json record for the command node n3.
const tracePendingN3 = `{
  "8be0537f-d0e8-42bc-9659-df63d3c1c0b7": {
    "requestId": "8be0537f-d0e8-42bc-9659-df63d3c1c0b7",
    "nodeId": "n3",
    "displayName": "Cmd Node",
    "platform": "linux",
    "caps": [
      "system"
    ],
    "commands": [
      "system.run",
      "system.notify"
    ],
    "silent": true,
    "ts": 1795262302152
  }
}`

// The trace's paired.json as OpenClaw wrote it: a plaintext token.
const tracePairedLegacy = `{
  "n1": {
    "nodeId": "n1",
    "token": "v_c5XW8DDD-zeQYMKFoTOLOE1Iytn7BIWuOtpPu10GI",
    "displayName": "Test 2",
    "platform": "linux",
    "createdAtMs": 1795262302213,
    "approvedAtMs": 1795262302213
  }
}`

const traceToken = "v_c5XW8DDD-zeQYMKFoTOLOE1Iytn7BIWuOtpPu10GI"

func TestFileFormatMatchesTraces(t *testing.T) {
	s, clk := openTest(t)
	req, _, err := s.Request(ctx, node, RequestInput{NodeID: "n1", NodeMeta: protocol.NodeMeta{DisplayName: "Test"}, Silent: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(tracePendingN1, "44a1f673-0f77-485a-adf8-00bf4a50151a", req.RequestID)
	checkpoint(t, s)
	if got := string(readFile(t, filepath.Join(s.Dir(), pendingFile))); got != want {
		t.Fatalf("pending.json:\n%s\nwant:\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), pairedFile)); !os.IsNotExist(err) {
		t.Fatalf("a request must not write paired.json (stat: %v)", err)
	}

	if _, err := s.Reject(ctx, operator, req.RequestID); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, s)
	if got := string(readFile(t, filepath.Join(s.Dir(), pendingFile))); got != "{}" {
		t.Fatalf("empty pending.json = %q, want {}", got)
	}

	clk.Add(3012 * time.Millisecond) // the trace's n3 ts
	req = mustRequest(t, s, RequestInput{NodeID: "n3", NodeMeta: protocol.NodeMeta{DisplayName: "Cmd Node", Platform: "linux", Caps: []string{"system"}, Commands: []string{"system.run", "system.notify"}}, Silent: ptr(true)})
	want = strings.ReplaceAll(tracePendingN3, "8be0537f-d0e8-42bc-9659-df63d3c1c0b7", req.RequestID)
	checkpoint(t, s)
	if got := string(readFile(t, filepath.Join(s.Dir(), pendingFile))); got != want {
		t.Fatalf("pending.json:\n%s\nwant:\n%s", got, want)
	}

	if err := s.Rename(ctx, operator, "n3", "R&D <lab>"); err != nil {
		t.Fatal(err)
	}
	n := mustApprove(t, s, req.RequestID)
	sum := sha256.Sum256([]byte(n.Token))
	wantPaired := fmt.Sprintf(`{
  "n3": {
    "nodeId": "n3",
    "tokenSha256": "%s",
    "displayName": "R&D <lab>",
    "platform": "linux",
    "caps": [
      "system"
    ],
    "commands": [
      "system.run",
      "system.notify"
    ],
    "createdAtMs": %d,
    "approvedAtMs": %d,
    "renamedAtMs": %d
  }
}`, hex.EncodeToString(sum[:]), clk.Ms(), clk.Ms(), clk.Ms())
	checkpoint(t, s)
	if got := string(readFile(t, filepath.Join(s.Dir(), pairedFile))); got != wantPaired {
		t.Fatalf("paired.json:\n%s\nwant:\n%s", got, wantPaired)
	}
}

func TestFileModes(t *testing.T) {
	clk := newClock()
	stateDir := filepath.Join(t.TempDir(), "state")
	s, err := Open(Options{StateDir: stateDir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pairNode(t, s, "n1")
	mustRequest(t, s, RequestInput{NodeID: "n2"})
	checkpoint(t, s)
	for path, want := range map[string]os.FileMode{
		stateDir:                            0o700 | os.ModeDir,
		s.Dir():                             0o700 | os.ModeDir,
		filepath.Join(s.Dir(), pendingFile): 0o600,
		filepath.Join(s.Dir(), pairedFile):  0o600,
		filepath.Join(s.Dir(), auditFile):   0o600,
		filepath.Join(s.Dir(), lockFile):    0o600,
		s.journal.path:                      0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != want {
			t.Errorf("%s: mode %v, want %v", path, st.Mode(), want)
		}
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

type fileID struct {
	ino   uint64
	mtime time.Time
	size  int64
}

func statID(t *testing.T, path string) fileID {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileID{st.Sys().(*syscall.Stat_t).Ino, st.ModTime(), st.Size()}
}

// A checkpoint rewrites only the files that changed since the last one;
// a change itself writes neither (the journal holds it).
func TestOnlyChangedFilesAreRewritten(t *testing.T) {
	s, clk := openTest(t)
	pairNode(t, s, "n1")
	checkpoint(t, s)
	pending := filepath.Join(s.Dir(), pendingFile)
	paired := filepath.Join(s.Dir(), pairedFile)

	before, beforePending := statID(t, paired), statID(t, pending)
	req := mustRequest(t, s, RequestInput{NodeID: "n2"})
	mustRequest(t, s, RequestInput{NodeID: "n2", NodeMeta: protocol.NodeMeta{DisplayName: "refresh"}})
	if err := s.Rename(ctx, operator, "n2", "pending only"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reject(ctx, operator, req.RequestID); err != nil {
		t.Fatal(err)
	}
	if statID(t, paired) != before || statID(t, pending) != beforePending {
		t.Fatal("a change rewrote a state file: only checkpoints do")
	}
	checkpoint(t, s)
	if after := statID(t, paired); after != before {
		t.Fatalf("paired.json rewritten by pending-only changes: %+v -> %+v", before, after)
	}

	before = statID(t, pending)
	clk.Add(time.Second)
	if err := s.MarkConnected(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(ctx, operator, "n1", "paired only"); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, operator, "token-refused", map[string]any{"nodeId": "n1"}); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, s)
	if after := statID(t, pending); after != before {
		t.Fatalf("pending.json rewritten by paired-only changes: %+v -> %+v", before, after)
	}
	// An approve changes both. (Content, not inode: a freed inode number
	// can come back for the next temp file. The checks above are sound
	// because a rewrite's temp file exists alongside the file it replaces.)
	req = mustRequest(t, s, RequestInput{NodeID: "n3"})
	checkpoint(t, s)
	bp, bq := string(readFile(t, paired)), string(readFile(t, pending))
	mustApprove(t, s, req.RequestID)
	checkpoint(t, s)
	if string(readFile(t, paired)) == bp || string(readFile(t, pending)) == bq {
		t.Fatal("approve must rewrite both files")
	}
}

// TestPlaintextTokenKeepsItsFormUntilConverted: a plaintext token (as
// OpenClaw writes it) verifies in a pairdeck-only dir, is never listed,
// and keeps its form through every write, the record's own changes
// included: only ConvertTokens hashes it.
func TestPlaintextTokenKeepsItsFormUntilConverted(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(nodes, 0o700)
	pairedPath := filepath.Join(nodes, pairedFile)
	if err := os.WriteFile(pairedPath, []byte(tracePairedLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	s, err := Open(Options{StateDir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if info := s.TokenStorage(); info.Storage != TokenStorageHash || info.Plaintext != 1 || info.Hashed != 0 {
		t.Fatalf("token storage: %+v", info)
	}
	n, ok := s.Verify("n1", traceToken)
	if !ok || n.Token != "" || n.DisplayName != "Test 2" {
		t.Fatalf("plaintext token: %+v, %v", n, ok)
	}
	if _, ok := s.Verify("n1", "wrong"); ok {
		t.Fatal("wrong token accepted")
	}
	if p := s.Paired(); p[0].Token != "" || p[0].TokenSHA256 != "" {
		t.Fatalf("Paired() leaks the token: %+v", p[0])
	}
	// Open and a pending-only change leave paired.json alone.
	mustRequest(t, s, RequestInput{NodeID: "other"})
	checkpoint(t, s)
	if got := string(readFile(t, pairedPath)); got != tracePairedLegacy {
		t.Fatalf("paired.json changed without a paired change:\n%s", got)
	}
	// Another node's approval and this node's rename keep its form.
	pairNode(t, s, "other")
	if err := s.Rename(ctx, operator, "n1", "Uno"); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, s)
	data := string(readFile(t, pairedPath))
	if !strings.Contains(data, `"token": "`+traceToken+`"`) || strings.Count(data, `"tokenSha256"`) != 1 {
		t.Fatalf("a write changed the token's form:\n%s", data)
	}
	// Converting is the explicit step.
	conv, err := s.ConvertTokens(ctx, operator)
	if err != nil || conv.Converted != 1 || conv.Unchanged != 1 || conv.Storage != TokenStorageHash {
		t.Fatalf("convert: %+v %v", conv, err)
	}
	checkpoint(t, s)
	data = string(readFile(t, pairedPath))
	sum := sha256.Sum256([]byte(traceToken))
	if strings.Contains(data, traceToken) || strings.Contains(data, `"token"`) || !strings.Contains(data, `"tokenSha256": "`+hex.EncodeToString(sum[:])+`"`) {
		t.Fatalf("not converted:\n%s", data)
	}
	lines := auditLines(t, s)
	if last := lines[len(lines)-1]; last["action"] != "tokens-converted" || last["tokenStorage"] != "hash" || last["converted"] != float64(1) {
		t.Fatalf("audit: %v", last)
	}
	if again, err := s.ConvertTokens(ctx, operator); err != nil || again.Converted != 0 || len(auditLines(t, s)) != len(lines) {
		t.Fatalf("a second conversion changed something: %+v %v", again, err)
	}
	s = reopen(t, s, clk)
	if _, ok := s.Verify("n1", traceToken); !ok {
		t.Fatal("converted token no longer verifies")
	}
}

func TestUnknownFieldsArePreserved(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(nodes, 0o700)
	clk := newClock()
	pending := fmt.Sprintf(`{
  "r1": {"requestId": "r1", "nodeId": "n1", "displayName": "Old one", "caps": ["camera"], "ts": %d, "permissions": {"screen.record": false}, "zeta": [1, 2]}
}`, clk.Ms())
	paired := `{"n2": {"nodeId": "n2", "token": "t", "displayName": "Old two", "createdAtMs": 1, "approvedAtMs": 1, "pushToken": "apns-xyz", "groups": ["home"]}}`
	os.WriteFile(filepath.Join(nodes, pendingFile), []byte(pending), 0o600)
	os.WriteFile(filepath.Join(nodes, pairedFile), []byte(paired), 0o600)
	s, err := Open(Options{StateDir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Rename(ctx, operator, "n1", "One"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename(ctx, operator, "n2", "Two"); err != nil {
		t.Fatal(err)
	}
	// The known fields (those of the embedded protocol.NodeMeta too) are
	// rewritten, not kept beside the new values as unknown ones.
	checkpoint(t, s)
	for _, f := range []string{pendingFile, pairedFile} {
		raw, _ := os.ReadFile(filepath.Join(nodes, f))
		if n := strings.Count(string(raw), `"displayName"`); n != 1 {
			t.Fatalf("%s holds displayName %d times:\n%s", f, n, raw)
		}
	}
	pr := diskJSON(t, s, pendingFile)["r1"]
	if fmt.Sprint(pr["permissions"]) != "map[screen.record:false]" || fmt.Sprint(pr["zeta"]) != "[1 2]" || pr["displayName"] != "One" || fmt.Sprint(pr["caps"]) != "[camera]" {
		t.Fatalf("pending record after rewrite: %v", pr)
	}
	pa := diskJSON(t, s, pairedFile)["n2"]
	// pushToken is someone else's field: kept as is (it is not our token).
	if pa["pushToken"] != "apns-xyz" || fmt.Sprint(pa["groups"]) != "[home]" || pa["displayName"] != "Two" {
		t.Fatalf("paired record after rewrite: %v", pa)
	}
	// token is a known field: kept as the node's token, in its form.
	if pa["token"] != "t" || pa["tokenSha256"] != nil {
		t.Fatalf("token not kept as it was: %v", pa)
	}
	if _, ok := s.Verify("n2", "t"); !ok {
		t.Fatal("token does not verify")
	}
	// A re-approval keeps the paired record's unknown fields.
	mustApprove(t, s, mustRequest(t, s, RequestInput{NodeID: "n2"}).RequestID)
	if pa := diskJSON(t, s, pairedFile)["n2"]; pa["pushToken"] != "apns-xyz" {
		t.Fatalf("re-approval dropped unknown fields: %v", pa)
	}
}

func TestCorruptFilesAreRefusedAndLeftUnchanged(t *testing.T) {
	cases := []struct {
		name, file, data string
		offset           int64 // -1: do not check
		problem          string
	}{
		{"truncated", pendingFile, `{"a": {"requestId": "a", "nodeId": "n"`, 38, "truncated"},
		{"syntax", pendingFile, "{\n  \"a\": {\"requestId\": \"a\",, \"nodeId\": \"n\"}\n}", -1, "invalid character ','"},
		{"list at top", pendingFile, ` [{"requestId": "a"}]`, 1, "expected a JSON object"},
		{"string at top", pairedFile, `"hello"`, 0, "found a string"},
		{"key mismatch", pendingFile, `{"a": {"requestId": "b", "nodeId": "n"}}`, 6, `requestId "b"`},
		{"no nodeId", pendingFile, `{"a": {"requestId": "a", "nodeId": " "}}`, 6, "no nodeId"},
		{"wrong type", pendingFile, `{"a": {"requestId": "a", "nodeId": "n", "ts": "soon"}}`, -1, `"ts" must be a whole number`},
		{"record not object", pairedFile, `{"n1": 5}`, -1, "must be a JSON object"},
		{"paired key mismatch", pairedFile, `{"n1": {"nodeId": "n2"}}`, 7, `nodeId "n2"`},
		{"bad hash", pairedFile, `{"n1": {"nodeId": "n1", "tokenSha256": "xyz"}}`, 7, "64 hex digits"},
		{"duplicate key", pairedFile, `{"n1": {"nodeId": "n1"}, "n1": {"nodeId": "n1"}}`, -1, "appears twice"},
		{"trailing data", pendingFile, `{} {}`, -1, "after the closing"},
		{"empty file", pendingFile, ``, 0, "empty"},
		{"whitespace only", pairedFile, "\n  \n", 0, "empty"},
		{"binary", pairedFile, "\x00\x01\xff", -1, "invalid character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			nodes := filepath.Join(dir, "nodes")
			os.MkdirAll(nodes, 0o700)
			path := filepath.Join(nodes, c.file)
			os.WriteFile(path, []byte(c.data), 0o600)
			before := statID(t, path)

			s, err := Open(Options{StateDir: dir})
			if err == nil {
				s.Close()
				t.Fatal("corrupt file accepted")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("error does not name %s: %v", path, err)
			}
			if c.offset >= 0 && ce.Offset != c.offset {
				t.Errorf("offset %d, want %d (%v)", ce.Offset, c.offset, err)
			}
			msg := err.Error()
			for _, want := range []string{path, fmt.Sprintf("byte %d", ce.Offset), c.problem, "mv " + path + " " + path + ".broken"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if got := string(readFile(t, path)); got != c.data || statID(t, path) != before {
				t.Fatal("the corrupt file was modified")
			}
			if _, err := os.Stat(filepath.Join(nodes, auditFile)); !os.IsNotExist(err) {
				t.Error("a failed open created the audit log")
			}
			// The lock was released: once the file is moved aside, Open works.
			os.Rename(path, path+".broken")
			s, err = Open(Options{StateDir: dir})
			if err != nil {
				t.Fatalf("open after moving the file aside: %v", err)
			}
			s.Close()
		})
	}
}

func TestCorruptErrorLineAndColumn(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(nodes, 0o700)
	data := "{\n  \"a\": {\n    \"requestId\": \"a\",\n    \"nodeId\": \"n\",\n    \"ts\": true\n  }\n}"
	os.WriteFile(filepath.Join(nodes, pendingFile), []byte(data), 0o600)
	_, err := Open(Options{StateDir: dir})
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Line != 5 {
		t.Fatalf("want line 5: %v", err)
	}
	if !strings.Contains(err.Error(), "line 5, column") || !strings.Contains(err.Error(), "to start with an empty pending queue") {
		t.Fatalf("message: %v", err)
	}
}

func TestUnreadableStateFile(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(filepath.Join(nodes, pairedFile), 0o700) // a directory where the file should be
	_, err := Open(Options{StateDir: dir})
	if err == nil || !strings.Contains(err.Error(), "is a directory") || !strings.Contains(err.Error(), filepath.Join(nodes, pairedFile)) {
		t.Fatalf("err = %v", err)
	}
	if st, err := os.Stat(filepath.Join(nodes, pairedFile)); err != nil || !st.IsDir() {
		t.Fatal("the directory was touched")
	}

	if os.Geteuid() == 0 {
		t.Log("running as root: permission-denied case skipped (root reads mode 000 files)")
		return
	}
	os.Remove(filepath.Join(nodes, pairedFile))
	os.WriteFile(filepath.Join(nodes, pendingFile), []byte("{}"), 0o000)
	if _, err := Open(Options{StateDir: dir}); err == nil || !strings.Contains(err.Error(), "permission") {
		t.Fatalf("err = %v", err)
	}
}

func TestStaleTempFilesRemovedAtOpen(t *testing.T) {
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(nodes, 0o700)
	stale := filepath.Join(nodes, tempPrefix+pendingFile+"-123")
	os.WriteFile(stale, []byte(`{"half`), 0o600)
	s, err := Open(Options{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatal("stale temp file not removed")
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	s, clk := openTest(t)
	tok := pairNode(t, s, "n1")
	req := mustRequest(t, s, RequestInput{NodeID: "n2", NodeMeta: protocol.NodeMeta{DisplayName: "Two", Commands: []string{"system.which"}}})
	if err := s.Rename(ctx, operator, "n1", "One"); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s, clk)
	if n, ok := s.Verify("n1", tok); !ok || n.DisplayName != "One" {
		t.Fatalf("after reopen: %+v %v", n, ok)
	}
	got, ok := s.PendingByID(req.RequestID)
	if !ok || got.DisplayName != "Two" || got.RequiredApproveScopes[1] != "operator.admin" {
		t.Fatalf("after reopen: %+v %v", got, ok)
	}
	if _, created, _ := s.Request(ctx, node, RequestInput{NodeID: "n2"}); created {
		t.Fatal("after reopen the node's request is not found by node id")
	}
}
