package policy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMissingFileIsTheDefault(t *testing.T) {
	p, err := Load(Path(t.TempDir()))
	if err != nil || p.AutoApprove.Enabled || len(p.AutoApprove.Rules) != 0 || p.Version != Version {
		t.Fatalf("got %+v, %v", p, err)
	}
}

func TestEditRoundTripWithMode0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pairdeck")
	ctx := context.Background()
	_, err := Edit(ctx, dir, func(p *Policy) error {
		p.AutoApprove.Enabled = true
		_, err := p.AddRule(Rule{Name: "lab", CIDRs: []string{"10.0.0.0/8"}, Platforms: []string{"IOS"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, Path(dir): 0o600} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", path, fi.Mode().Perm(), want, err)
		}
	}
	p, err := Load(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := p.Rule("LAB")
	if !ok || !p.AutoApprove.Enabled || r.Platforms[0] != "ios" {
		t.Fatalf("reloaded %+v", p)
	}
	data, _ := os.ReadFile(Path(dir))
	if !strings.Contains(string(data), "\n  \"autoApprove\": {") {
		t.Fatalf("not indented:\n%s", data)
	}
	// A failing change leaves the file alone.
	before, _ := os.ReadFile(Path(dir))
	_, err = Edit(ctx, dir, func(p *Policy) error { return p.RemoveRule("nope") })
	after, _ := os.ReadFile(Path(dir))
	if !errors.Is(err, ErrNoRule) || string(before) != string(after) {
		t.Fatalf("failed edit: %v\n%s", err, after)
	}
	// No temp files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left over: %s", e.Name())
		}
	}
}

func TestConcurrentEditsAreAllKept(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_, err := Edit(context.Background(), dir, func(p *Policy) error {
				_, err := p.AddRule(Rule{Name: fmt.Sprintf("r%d", i), Loopback: true})
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	p, err := Load(Path(dir))
	if err != nil || len(p.AutoApprove.Rules) != 8 {
		t.Fatalf("%d rules, %v", len(p.AutoApprove.Rules), err)
	}
}

func TestCorruptFilesAreRefusedWithWhereAndHow(t *testing.T) {
	cases := []struct {
		name    string
		content string
		line    int
		problem string
	}{
		{"empty", "", 1, "empty"},
		{"syntax", "{\n  \"version\": 1,\n  \"autoApprove\": {\"enabled\": tru}\n}\n", 3, "not valid JSON"},
		{"truncated", "{\n  \"version\": 1,\n  \"autoApprove\": {", 3, "ends too early"},
		{"misspelt condition", "{\"version\": 1,\n \"autoApprove\": {\"enabled\": true, \"rules\": [\n  {\"name\": \"a\", \"cidr\": [\"10.0.0.0/8\"]}]}}", 3, `unknown member "cidr"`},
		{"wrong type", "{\"version\": 1,\n\"autoApprove\": {\"enabled\": \"yes\"}}", 2, "autoApprove.enabled"},
		{"no version", "{\"autoApprove\": {\"enabled\": false}}", 1, "version"},
		{"newer version", "{\"version\": 2,\n \"autoApprove\": {}}", 1, "version 2"},
		{"too broad", "{\"version\": 1,\n \"autoApprove\": {\"rules\": [\n  {\"name\": \"ok\", \"loopback\": true},\n  {\"name\": \"all\"}]}}", 4, "rule 2"},
		{"bad cidr", "{\"version\": 1, \"autoApprove\": {\"rules\": [\n\n{\"name\": \"x\", \"cidrs\": [\"10/8\"]}]}}", 3, "not an address"},
		{"trailing", "{\"version\": 1, \"autoApprove\": {}}\n{}", 2, "after the JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := Path(dir)
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			ce, ok := errors.AsType[*CorruptError](err)
			if !ok || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want a *CorruptError", err)
			}
			msg := err.Error()
			for _, want := range []string{path, fmt.Sprintf("line %d", c.line), "byte ", c.problem, "mv " + path, "left unchanged"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q: %s", want, msg)
				}
			}
			if ce.Line != c.line {
				t.Errorf("line %d, want %d (offset %d)", ce.Line, c.line, ce.Offset)
			}
			// Editing refuses too, and the file is left as it was.
			if _, err := Edit(context.Background(), dir, func(*Policy) error { return nil }); !errors.Is(err, ErrCorrupt) {
				t.Errorf("edit of a corrupt file: %v", err)
			}
			if data, _ := os.ReadFile(path); string(data) != c.content {
				t.Errorf("the file was changed:\n%s", data)
			}
			if _, err := NewWatcher(path); !errors.Is(err, ErrCorrupt) {
				t.Errorf("watcher on a corrupt file: %v", err)
			}
		})
	}
}

func TestWatcherFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := Path(dir)
	w, err := NewWatcher(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, changed, err := w.Current(); err != nil || changed || p.AutoApprove.Enabled {
		t.Fatalf("no file: %+v %v %v", p, changed, err)
	}
	if _, err := Edit(context.Background(), dir, func(p *Policy) error {
		p.AutoApprove.Enabled = true
		_, err := p.AddRule(Rule{Name: "lo", Loopback: true})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p, changed, err := w.Current()
	if err != nil || !changed || !p.AutoApprove.Enabled || len(p.AutoApprove.Rules) != 1 {
		t.Fatalf("after edit: %+v %v %v", p, changed, err)
	}
	if _, changed, _ := w.Current(); changed {
		t.Fatal("unchanged file reported as changed")
	}
	// Broken by hand: auto-approval is off (fail closed) until it is fixed.
	good, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte("{oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	bumpMtime(t, path)
	p, _, err = w.Current()
	if !errors.Is(err, ErrCorrupt) || p.AutoApprove.Enabled {
		t.Fatalf("corrupt: %+v %v", p, err)
	}
	if _, _, err := w.Current(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("the error must stick until the file is fixed: %v", err)
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	bumpMtime(t, path)
	if p, _, err := w.Current(); err != nil || !p.AutoApprove.Enabled {
		t.Fatalf("fixed: %+v %v", p, err)
	}
	// Removed: back to the default.
	os.Remove(path)
	if p, changed, err := w.Current(); err != nil || !changed || p.AutoApprove.Enabled {
		t.Fatalf("removed: %+v %v %v", p, changed, err)
	}
}

var bumps int

// bumpMtime makes an in-place rewrite visible even on filesystems with a
// coarse clock.
func bumpMtime(t *testing.T, path string) {
	t.Helper()
	bumps++
	later := time.Now().Add(time.Duration(bumps) * time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}
