package store

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

const goodCode = `{
  "c7k2m9qpx": {
    "id": "c7k2m9qpx",
    "prefix": "K7QM",
    "scope": {"namePrefix": "lab-", "platforms": ["linux"], "cidrs": ["10.0.0.0/8"]},
    "note": "rack 3",
    "createdAtMs": 1795262299140,
    "createdBy": "cli alice@laptop",
    "expiresAtMs": 1795262899140,
    "maxUses": 3,
    "uses": 1,
    "usedBy": ["n1"],
    "lastUsedAtMs": 1795262300000,
    "sha256": "08031bfcca04f6b29c4fed5e103a6ea0b554d17e0ed4599159ddab9d8ad33d7e",
    "futureField": {"kept": true}
  }
}`

var codeSeeds = []string{
	goodCode,
	`{}`,
	strings.Replace(goodCode, `"uses": 1`, `"uses": 4`, 1),
	strings.Replace(goodCode, `"sha256": "08`, `"sha256": "zz`, 1),
	strings.Replace(goodCode, `"id": "c7k2m9qpx"`, `"id": "other"`, 1),
	`{"c1": 1}`,
	`[]`,
}

func FuzzLoadCodes(f *testing.F) {
	for _, s := range codeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := decodeCodes("codes.json", data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			return
		}
		for _, e := range tab.byID {
			if err := e.encode(); err != nil {
				t.Fatal(err)
			}
		}
		out, _, err := assembleSnapshot(codeItems(tab))
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeCodes("codes.json", out)
		if err != nil {
			t.Fatalf("written form does not load: %v\n%s", err, out)
		}
		for id, e := range tab.byID {
			if e2 := again.byID[id]; e2 == nil || !reflect.DeepEqual(e2.rec, e.rec) || e2.digest != e.digest {
				t.Fatalf("code %q changed across a rewrite", id)
			}
		}
	})
}

// TestCorruptCodesFileIsRefused: a damaged codes.json stops Open with the
// file, the record, the field and how to recover, and nothing is changed.
func TestCorruptCodesFileIsRefused(t *testing.T) {
	cases := map[string]string{
		"uses":             strings.Replace(goodCode, `"uses": 1`, `"uses": 4`, 1),
		"sha256":           strings.Replace(goodCode, `"sha256": "08`, `"sha256": "zz`, 1),
		"id":               strings.Replace(goodCode, `"id": "c7k2m9qpx"`, `"id": "other"`, 1),
		"scope.cidrs":      strings.Replace(goodCode, `10.0.0.0/8`, `10.0.0.0/99`, 1),
		"expiresAtMs":      strings.Replace(goodCode, `"expiresAtMs": 1795262899140`, `"expiresAtMs": 5`, 1),
		"usedBy":           strings.Replace(goodCode, `"usedBy": ["n1"]`, `"usedBy": ["n1", "n2"]`, 1),
		"note":             strings.Replace(goodCode, `rack 3`, `rack\u001b[2J`, 1),
		"maxUses":          strings.Replace(goodCode, `"createdBy"`, `"maxUses": "x", "createdBy"`, 1),
		"line 1, column 8": `{"c1": 1}`,
		"same sha256":      strings.Replace(goodCode, "\n}", ",\n"+strings.ReplaceAll(strings.TrimSuffix(strings.TrimPrefix(goodCode, "{\n"), "\n}"), "c7k2m9qpx", "c8888888x")+"\n}", 1),
		"not a JSON":       `{"c1": {`,
	}
	for want, data := range cases {
		dir := t.TempDir()
		nodes := filepath.Join(dir, "nodes")
		os.MkdirAll(nodes, 0o700)
		path := filepath.Join(nodes, codesFile)
		os.WriteFile(path, []byte(data), 0o600)
		_, err := Open(Options{StateDir: dir})
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), "mv "+path+" "+path+".broken") {
			t.Fatalf("%s: %v", want, err)
		}
		if want != "not a JSON" && want != "same sha256" && !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: the error does not name it: %v", want, err)
		}
		if got, _ := os.ReadFile(path); string(got) != data {
			t.Fatalf("%s: codes.json changed", want)
		}
	}
	// The good one loads, keeps a member it does not know, and its code
	// redeems nothing for a wrong secret.
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "nodes"), 0o700)
	os.WriteFile(filepath.Join(dir, "nodes", codesFile), []byte(goodCode), 0o600)
	s, err := Open(Options{StateDir: dir, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if c, ok := s.CodeByID("c7k2m9qpx"); !ok || c.Uses != 1 || c.Scope.NamePrefix != "lab-" {
		t.Fatalf("loaded: %+v", c)
	}
	if _, err := s.RevokeCode(ctx, operator, "c7k2m9qpx", "", nil); err != nil {
		t.Fatal(err)
	}
	checkpoint(t, s)
	if data := string(readFile(t, filepath.Join(s.Dir(), codesFile))); !strings.Contains(data, `"futureField": {`) || !strings.Contains(data, `"revokedAtMs"`) {
		t.Fatalf("rewritten:\n%s", data)
	}
	if out := mustRedeem(t, s, codeNode("n9", "lab-9", "K7QM-AAAA-AAAA-AAAA-AAAA")); out.Refusal == nil || out.Refusal.Reason != protocol.ReasonCodeInvalid {
		t.Fatalf("wrong secret: %+v", out)
	}
}
