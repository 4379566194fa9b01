package store

import (
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// fixture412 is what openclaw@2026.4.12 wrote for the steps of
// TestOpenClawStorageWritesWhatOpenClawWrites (testdata/…/record.mjs).
type fixture412 struct {
	R1, T1, R2, T2 string
}

func loadFixture412(t *testing.T) fixture412 {
	t.Helper()
	var f fixture412
	if err := json.Unmarshal(readFile(t, filepath.Join("testdata", "openclaw-2026.4.12", "ids.json")), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func fixture412File(t *testing.T, name string) string {
	t.Helper()
	return string(readFile(t, filepath.Join("testdata", "openclaw-2026.4.12", name)))
}

// fixtureTS reads a number member from a fixture file.
func fixtureTS(t *testing.T, name, key, member string) int64 {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(fixture412File(t, name)))
	d.UseNumber()
	var raw map[string]map[string]any
	if err := d.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	n, err := raw[key][member].(json.Number).Int64()
	if err != nil {
		t.Fatalf("%s %s.%s: %v", name, key, member, err)
	}
	return n
}

// sameFiles compares both state files with the release's after a step,
// the release's ids and tokens replaced by pairdeck's.
func sameFiles(t *testing.T, s *Store, step string, replace ...string) {
	t.Helper()
	checkpoint(t, s)
	r := strings.NewReplacer(replace...)
	for _, f := range []string{"pending", "paired"} {
		want := r.Replace(fixture412File(t, step+"."+f+".json"))
		path := filepath.Join(s.Dir(), f+".json")
		if got := string(readFile(t, path)); got != want {
			t.Fatalf("after %s, %s.json:\n%s\nopenclaw@2026.4.12 wrote:\n%s", step, f, got, want)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s.json: %v %v", f, fi.Mode(), err)
		}
	}
}

// TestOpenClawStorageWritesWhatOpenClawWrites: with the "openclaw" token
// storage, the same steps leave the same bytes on disk as openclaw@2026.4.12
// (recorded from the release's own code), plaintext tokens included.
func TestOpenClawStorageWritesWhatOpenClawWrites(t *testing.T) {
	fx := loadFixture412(t)
	clk := &fakeClock{t: time.UnixMilli(fixtureTS(t, "1-request.pending.json", fx.R1, "ts"))}
	s, err := Open(Options{StateDir: t.TempDir(), Now: clk.Now, TokenStorage: TokenStorageOpenClaw})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	if c := s.TokenStorage(); c.Storage != TokenStorageOpenClaw || c.Why != "chosen with --token-storage" {
		t.Fatalf("storage: %+v", c)
	}

	r1 := mustRequest(t, s, RequestInput{NodeID: "n1", Silent: ptr(false), NodeMeta: protocol.NodeMeta{
		DisplayName: "Alpha", Platform: "linux", Version: "1.2.3", DeviceFamily: "Linux",
		Caps: []string{"system"}, Commands: []string{"system.run", "system.notify"}, RemoteIP: "10.0.0.7"}})
	sameFiles(t, s, "1-request", fx.R1, r1.RequestID)

	clk.t = time.UnixMilli(fixtureTS(t, "2-approve.paired.json", "n1", "approvedAtMs"))
	n1 := mustApprove(t, s, r1.RequestID)
	sameFiles(t, s, "2-approve", fx.T1, n1.Token)

	if err := s.Rename(ctx, operator, "n1", "Beta"); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, s, "3-rename", fx.T1, n1.Token)

	clk.t = time.UnixMilli(fixtureTS(t, "4-request.pending.json", fx.R2, "ts"))
	r2 := mustRequest(t, s, RequestInput{NodeID: "n2", Silent: ptr(false), NodeMeta: protocol.NodeMeta{DisplayName: "Gamma", Platform: "darwin"}})
	sameFiles(t, s, "4-request", fx.T1, n1.Token, fx.R2, r2.RequestID)

	clk.t = time.UnixMilli(fixtureTS(t, "5-approve.paired.json", "n2", "approvedAtMs"))
	n2 := mustApprove(t, s, r2.RequestID)
	sameFiles(t, s, "5-approve", fx.T1, n1.Token, fx.T2, n2.Token)

	// A restart keeps the form and the bytes; both tokens verify.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(Options{StateDir: s.stateDir, Now: clk.Now, TokenStorage: TokenStorageOpenClaw}); err != nil {
		t.Fatal(err)
	}
	for id, tok := range map[string]string{"n1": n1.Token, "n2": n2.Token} {
		if _, ok := s.Verify(id, tok); !ok {
			t.Fatalf("%s's token does not verify after a restart", id)
		}
	}
	if info := s.TokenStorage(); info.Plaintext != 2 || info.Hashed != 0 {
		t.Fatalf("forms: %+v", info)
	}
	sameFiles(t, s, "5-approve", fx.T1, n1.Token, fx.T2, n2.Token)
}

// openClawDir is a state dir as openclaw@2026.4.12 left it after the
// recorded rename (3-rename), with the openclaw.json it stamps.
func openClawDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	if err := os.MkdirAll(nodes, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"pending", "paired"} {
		if err := os.WriteFile(filepath.Join(nodes, f+".json"), []byte(fixture412File(t, "3-rename."+f+".json")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := `{
  // written by OpenClaw
  meta: { lastTouchedVersion: "2026.4.12", lastTouchedAt: "2026-12-06T16:06:10.000Z" },
  gateway: { port: 18789, auth: { mode: "token", token: "x" } },
}`
	if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOpenClawDirKeepsWorkingForOpenClaw: on a dir OpenClaw wrote, the
// storage is detected, the release's token verifies, and pairdeck's next
// changes leave the release's record byte for byte as it was.
func TestOpenClawDirKeepsWorkingForOpenClaw(t *testing.T) {
	fx := loadFixture412(t)
	dir := openClawDir(t)
	clk := &fakeClock{t: time.UnixMilli(fixtureTS(t, "4-request.pending.json", fx.R2, "ts"))}
	s, err := Open(Options{StateDir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.TokenStorage()
	if c.Storage != TokenStorageOpenClaw || !strings.Contains(c.Why, "OpenClaw 2026.4.12") || !strings.Contains(c.TradeOff(), "plaintext") {
		t.Fatalf("storage on OpenClaw's dir: %+v %q", c, c.TradeOff())
	}
	if _, ok := s.Verify("n1", fx.T1); !ok {
		t.Fatal("the release's token does not verify")
	}
	r2 := mustRequest(t, s, RequestInput{NodeID: "n2", Silent: ptr(false), NodeMeta: protocol.NodeMeta{DisplayName: "Gamma", Platform: "darwin"}})
	sameFiles(t, s, "4-request", fx.R2, r2.RequestID)
	clk.t = time.UnixMilli(fixtureTS(t, "5-approve.paired.json", "n2", "approvedAtMs"))
	n2 := mustApprove(t, s, r2.RequestID)
	sameFiles(t, s, "5-approve", fx.T2, n2.Token)
	// Nothing pairdeck-only went into OpenClaw's files; the audit log is
	// pairdeck's own file next to them.
	for _, f := range []string{pendingFile, pairedFile} {
		if b := string(readFile(t, filepath.Join(s.Dir(), f))); strings.Contains(b, "renamedAtMs") || strings.Contains(b, "tokenSha256") || strings.Contains(b, "isRepair") {
			t.Fatalf("%s has pairdeck-only members:\n%s", f, b)
		}
	}
}

// TestConvertingTokensIsExplicit: a hash store never rewrites a plaintext
// token by itself; an "openclaw" store refuses to convert while any node
// has only a hash (naming it), and converting back to OpenClaw's form drops
// pairdeck-only members.
func TestConvertingTokensIsExplicit(t *testing.T) {
	fx := loadFixture412(t)
	dir := openClawDir(t)
	clk := &fakeClock{t: time.UnixMilli(fixtureTS(t, "4-request.pending.json", fx.R2, "ts"))}

	// Opened with --token-storage hash: the release's record stays as it is
	// through other changes.
	s, err := Open(Options{StateDir: dir, Now: clk.Now, TokenStorage: TokenStorageHash})
	if err != nil {
		t.Fatal(err)
	}
	pairNode(t, s, "h1")
	if err := s.Rename(ctx, operator, "h1", "Hashed"); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, s)
	paired := string(readFile(t, filepath.Join(s.Dir(), pairedFile)))
	if !strings.Contains(paired, fixture412File(t, "3-rename.paired.json")[4:300]) {
		t.Fatalf("the release's record changed without a conversion:\n%s", paired)
	}
	if info := s.TokenStorage(); info.Plaintext != 1 || info.Hashed != 1 {
		t.Fatalf("forms: %+v", info)
	}
	s.Close()

	// Back to openclaw: h1 has only a hash, so nothing converts.
	s, err = Open(Options{StateDir: dir, Now: clk.Now, TokenStorage: TokenStorageOpenClaw})
	if err != nil {
		t.Fatal(err)
	}
	before := readFile(t, filepath.Join(s.Dir(), pairedFile))
	_, err = s.ConvertTokens(ctx, operator)
	var he *HashedTokensError
	if !errors.As(err, &he) || !errors.Is(err, ErrInvalid) || len(he.NodeIDs) != 1 || he.NodeIDs[0] != "h1" || !strings.Contains(err.Error(), "pair again") {
		t.Fatalf("convert with a hashed token: %v", err)
	}
	checkpoint(t, s)
	if after := readFile(t, filepath.Join(s.Dir(), pairedFile)); string(after) != string(before) {
		t.Fatalf("a refused conversion changed paired.json:\n%s", after)
	}
	// Once h1 is gone, the conversion drops pairdeck's members (h1's
	// rename left renamedAtMs on nothing now; n1's record is OpenClaw's).
	if err := s.Remove(ctx, operator, "h1"); err != nil {
		t.Fatal(err)
	}
	conv, err := s.ConvertTokens(ctx, operator)
	if err != nil || conv.Converted != 0 || conv.Unchanged != 1 {
		t.Fatalf("convert: %+v %v", conv, err)
	}
	sameFiles(t, s, "3-rename")
	if _, ok := s.Verify("n1", fx.T1); !ok {
		t.Fatal("n1's token no longer verifies")
	}
	s.Close()
}

func TestParseTokenStorage(t *testing.T) {
	for in, want := range map[string]TokenStorage{"hash": TokenStorageHash, " OpenClaw ": TokenStorageOpenClaw} {
		if got, err := ParseTokenStorage(in); err != nil || got != want {
			t.Fatalf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseTokenStorage("plain"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "want hash") {
		t.Fatalf("bad value: %v", err)
	}
	if _, err := Open(Options{StateDir: t.TempDir(), TokenStorage: "plain"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("open with a bad storage: %v", err)
	}
	// A hand-written openclaw.json (a token for pairdeck's gateway, no
	// meta) keeps hashing.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{"gateway":{"auth":{"token":"x"}}}`), 0o600)
	c, err := DetectTokenStorage(dir, "")
	if err != nil || c.Storage != TokenStorageHash || !strings.Contains(c.Why, "not written by OpenClaw") {
		t.Fatalf("hand-written config: %+v %v", c, err)
	}
	os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{ not json`), 0o600)
	if _, err := DetectTokenStorage(dir, ""); err == nil || !strings.Contains(err.Error(), "--token-storage") {
		t.Fatalf("broken config: %v", err)
	}
}

// TestOpenClaw735RequestApprovedAsTheReleaseWould: a request
// openclaw@2026.7.35 queued (with its revision, clientId, clientMode and
// permissions) approved and renamed by pairdeck leaves the bytes the
// release itself wrote for the same steps.
func TestOpenClaw735RequestApprovedAsTheReleaseWould(t *testing.T) {
	fixture := func(name string) string {
		return string(readFile(t, filepath.Join("testdata", "openclaw-2026.7.35", name)))
	}
	var ids struct{ R1, T1 string }
	if err := json.Unmarshal([]byte(fixture("ids.json")), &ids); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	nodes := filepath.Join(dir, "nodes")
	os.MkdirAll(nodes, 0o700)
	for _, f := range []string{"pending", "paired"} {
		os.WriteFile(filepath.Join(nodes, f+".json"), []byte(fixture("1-request."+f+".json")), 0o600)
	}
	var approved struct {
		N1 struct {
			ApprovedAtMs int64 `json:"approvedAtMs"`
		} `json:"n1"`
	}
	json.Unmarshal([]byte(fixture("2-approve.paired.json")), &approved)
	clk := &fakeClock{t: time.UnixMilli(approved.N1.ApprovedAtMs)}
	s, err := Open(Options{StateDir: dir, Now: clk.Now, TokenStorage: TokenStorageOpenClaw, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	req, ok := s.PendingByID(ids.R1)
	if !ok || req.Permissions["screen"] != true {
		t.Fatalf("the release's request: %+v %v", req, ok)
	}
	n1 := mustApprove(t, s, ids.R1)
	same := func(step string) {
		t.Helper()
		checkpoint(t, s)
		for _, f := range []string{"pending", "paired"} {
			want := strings.ReplaceAll(fixture(step+"."+f+".json"), ids.T1, n1.Token)
			if got := string(readFile(t, filepath.Join(nodes, f+".json"))); got != want {
				t.Fatalf("after %s, %s.json:\n%s\nopenclaw@2026.7.35 wrote:\n%s", step, f, got, want)
			}
		}
	}
	same("2-approve")
	if err := s.Rename(ctx, operator, "n1", "Beta"); err != nil {
		t.Fatal(err)
	}
	same("3-rename")
}

// TestTokenStorageIsSaidAtOpen: a writer's Open on a dir OpenClaw shares
// logs the storage, why and its trade-off once; a read-only open, and a
// pairdeck-only dir, say nothing.
func TestTokenStorageIsSaidAtOpen(t *testing.T) {
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, nil))
	dir := openClawDir(t)
	s, err := Open(Options{StateDir: dir, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	out := buf.String()
	if strings.Count(out, "node token storage: openclaw (the state dir is OpenClaw 2026.4.12's") != 1 || !strings.Contains(out, "plaintext") {
		t.Fatalf("log:\n%s", out)
	}
	buf.Reset()
	r, err := Open(Options{StateDir: dir, Logger: log, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if strings.Contains(buf.String(), "token storage") {
		t.Fatalf("a read-only open logged:\n%s", buf.String())
	}
	h, err := Open(Options{StateDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if strings.Contains(buf.String(), "token storage") {
		t.Fatalf("a pairdeck-only dir logged:\n%s", buf.String())
	}
}
