package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStateTokenStorageAndConversion: the state dir says how it keeps
// tokens; converting them is an explicit command that does what it says,
// refuses what cannot be done (a hashed token cannot become plaintext
// again) with the nodes named, and waits for no running gateway.
func TestStateTokenStorageAndConversion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nodes := filepath.Join(e.stateDir, "nodes")
	if err := os.MkdirAll(nodes, 0o700); err != nil {
		t.Fatal(err)
	}
	// A pairdeck dir holding a legacy plaintext token: it stays plaintext
	// until converted.
	paired := `{"n1":{"nodeId":"n1","displayName":"One","token":"plain-secret-token-1","createdAtMs":1796564235553,"approvedAtMs":1796564235553}}`
	if err := os.WriteFile(filepath.Join(nodes, "paired.json"), []byte(paired), 0o600); err != nil {
		t.Fatal(err)
	}

	var info struct {
		Storage   string `json:"tokenStorage"`
		Why       string `json:"why"`
		Plaintext int    `json:"plaintext"`
		Hashed    int    `json:"hashed"`
	}
	e.okJSON(&info, "state", "token-storage", "--json")
	if info.Storage != "hash" || info.Plaintext != 1 || info.Hashed != 0 {
		t.Fatalf("token-storage before: %+v", info)
	}
	if r := e.ok("state", "token-storage"); !strings.Contains(r.stdout, "token storage: hash") || !strings.Contains(r.stdout, "plaintext token: 1") {
		t.Errorf("token-storage text:\n%s", r)
	}

	checkFailure(t, e.run("state", "convert-tokens", "--to", "sha"), 2, "--to \"sha\"", "hash or openclaw")
	checkFailure(t, e.run("state", "convert-tokens"), 2, "needs --to hash or --to openclaw")

	var conv struct {
		Storage   string `json:"tokenStorage"`
		Converted int    `json:"converted"`
		Unchanged int    `json:"unchanged"`
	}
	e.okJSON(&conv, "state", "convert-tokens", "--to", "hash", "--json")
	if conv.Storage != "hash" || conv.Converted != 1 || conv.Unchanged != 0 {
		t.Fatalf("convert to hash: %+v", conv)
	}
	got, err := os.ReadFile(filepath.Join(nodes, "paired.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(got), "plain-secret-token-1") || !strings.Contains(string(got), "tokenSha256") {
		t.Errorf("paired.json after converting to hash:\n%s", got)
	}
	// The node's token still verifies: only its form changed.
	if r := e.runStdin("plain-secret-token-1\n", "nodes", "verify", "--node", "n1", "--token-file", "-"); r.code != 0 {
		t.Errorf("the converted token does not verify:\n%s", r)
	}
	e.okJSON(&conv, "state", "convert-tokens", "--to", "hash", "--json")
	if conv.Converted != 0 || conv.Unchanged != 1 {
		t.Errorf("converting again: %+v", conv)
	}

	before, _ := os.ReadFile(filepath.Join(nodes, "paired.json"))
	checkFailure(t, e.run("state", "convert-tokens", "--to", "openclaw"), 1, "n1", "cannot be recovered", "pair again")
	if after, _ := os.ReadFile(filepath.Join(nodes, "paired.json")); string(after) != string(before) {
		t.Errorf("a refused conversion changed paired.json:\n%s", after)
	}

	g := e.serve()
	checkFailure(t, e.run("state", "convert-tokens", "--to", "hash"), 1, "a gateway already serves", "stop it first")
	g.stop()

	// serve chooses with --token-storage, and says so at start.
	checkFailure(t, e.run("serve", "--token-storage", "plain"), 2, "--token-storage \"plain\"", "hash", "openclaw")
	g = e.serve("--token-storage", "openclaw")
	g.stop()
	if log := g.stderr.String(); !strings.Contains(log, "node token storage: openclaw") || !strings.Contains(log, "--token-storage") {
		t.Errorf("serve --token-storage openclaw did not say so:\n%s", log)
	}
}
