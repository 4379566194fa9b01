package policy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

var t0 = time.UnixMilli(1795262299117)

func TestAccessDefaultsAndSwitch(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenAccess(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.Pairing().Disabled || len(a.List()) != 0 {
		t.Fatalf("a new state dir pairs and blocks nobody: %+v", a.Pairing())
	}
	if _, err := os.Stat(a.Path()); !os.IsNotExist(err) {
		t.Fatal("reading must not create access.json")
	}
	s, changed, err := a.SetPairing(false, "console (operator)", t0)
	if err != nil || !changed || !s.Disabled || s.ChangedBy != "console (operator)" {
		t.Fatalf("switch off: %+v %v %v", s, changed, err)
	}
	if _, changed, _ := a.SetPairing(false, "x", t0); changed {
		t.Fatal("switching off twice is no change")
	}
	b, err := OpenAccess(dir)
	if err != nil || !b.Pairing().Disabled || b.Pairing().ChangedAtMs != t0.UnixMilli() {
		t.Fatalf("remembered: %+v %v", b.Pairing(), err)
	}
	if st := b.Pairing().State(); st.Enabled || st.ChangedBy == "" {
		t.Fatalf("wire state: %+v", st)
	}
	fi, _ := os.Stat(a.Path())
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

func TestBlockListRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a, _ := OpenAccess(dir)
	b, created, err := a.Block(strings.ToUpper(idA), "", "cli (operator)", t0)
	if err != nil || !created || b.NodeID != idA {
		t.Fatalf("block: %+v %v %v", b, created, err)
	}
	// Blocking again keeps the entry and its time, and takes a name.
	b, created, err = a.Block(idA, "Pest", "other", t0.Add(time.Hour))
	if err != nil || created || b.DisplayName != "Pest" || b.BlockedAtMs != t0.UnixMilli() || b.BlockedBy != "cli (operator)" {
		t.Fatalf("block again: %+v %v %v", b, created, err)
	}
	if _, ok := a.Refuse(idB, "10.0.0.1", t0); ok {
		t.Fatal("a node that is not blocked was counted")
	}
	for i := range 3 {
		a.Refuse(idA, "10.0.0.9", t0.Add(time.Duration(i)*time.Second))
	}
	// Counters are not written on every refusal...
	if again, _ := OpenAccess(dir); mustBlocked(t, again, idA).Attempts != 0 {
		t.Fatal("counters were written before Flush")
	}
	// ...but by Flush.
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	got := mustBlocked(t, mustOpen(t, dir), idA)
	if got.Attempts != 3 || got.LastAttemptMs != t0.Add(2*time.Second).UnixMilli() || got.LastRemoteIP != "10.0.0.9" {
		t.Fatalf("counters: %+v", got)
	}
	if _, _, err := a.Block(idB, "Second", "cli", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if list := a.List(); len(list) != 2 || list[0].NodeID != idB {
		t.Fatalf("newest first: %+v", list)
	}
	old, err := a.Unblock(idA)
	if err != nil || old.Attempts != 3 {
		t.Fatalf("unblock: %+v %v", old, err)
	}
	if _, err := a.Unblock(idA); !errors.Is(err, ErrNotBlocked) {
		t.Fatalf("unblock twice: %v", err)
	}
	if _, ok := mustOpen(t, dir).Blocked(idA); ok {
		t.Fatal("unblock was not written")
	}
}

func mustOpen(t *testing.T, dir string) *Access {
	t.Helper()
	a, err := OpenAccess(dir)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustBlocked(t *testing.T, a *Access, id string) protocol.BlockedNode {
	t.Helper()
	e, ok := a.Blocked(id)
	if !ok {
		t.Fatalf("%s is not blocked", id)
	}
	return e
}

func TestFailedWritesChangeNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pairdeck")
	a, _ := OpenAccess(dir)
	// A file where the dir should be makes every write fail.
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Block(idA, "", "x", t0); err == nil {
		t.Fatal("block succeeded without a place to write")
	}
	if _, ok := a.Blocked(idA); ok {
		t.Fatal("a block that was not written is in force")
	}
	if _, _, err := a.SetPairing(false, "x", t0); err == nil || a.Pairing().Disabled {
		t.Fatalf("switch: %v %+v", err, a.Pairing())
	}
}

func TestCorruptAccessFileIsRefused(t *testing.T) {
	for name, content := range map[string]string{
		"syntax":       "{\"version\": 1, \"blocked\": {\n\"x\": }}",
		"unknown":      "{\"version\": 1, \"pairing\": {\"off\": true}}",
		"version":      "{\"version\": 7}",
		"mismatched":   "{\"version\": 1, \"blocked\": {\"aa\": {\"nodeId\": \"bb\", \"blockedAtMs\": 1, \"attempts\": 0}}}",
		"empty":        "",
		"not a object": "[]",
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, AccessFileName)
		os.WriteFile(path, []byte(content), 0o600)
		_, err := OpenAccess(dir)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "byte") ||
			!strings.Contains(err.Error(), "nobody blocked") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The file it writes is what it reads.
	dir := t.TempDir()
	a, _ := OpenAccess(dir)
	a.Block(idA, "n", "x", t0)
	var f map[string]json.RawMessage
	data, _ := os.ReadFile(a.Path())
	if err := json.Unmarshal(data, &f); err != nil || f["version"] == nil || f["pairing"] == nil || f["blocked"] == nil {
		t.Fatalf("written: %s %v", data, err)
	}
}
