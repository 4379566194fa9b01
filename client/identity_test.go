package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestIdentityCreatedPrivateAndReloaded(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	path := IdentityPath(state)
	if path != filepath.Join(state, "identity", "device.json") {
		t.Fatalf("IdentityPath = %s", path)
	}
	id, err := LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if id.DeviceID != protocol.DeviceID(id.PublicKey) || len(id.DeviceID) != 64 {
		t.Fatalf("device id %q does not derive from the key", id.DeviceID)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700, state: 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
	data, _ := os.ReadFile(path)
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f["version"] != 1.0 || f["deviceId"] != id.DeviceID ||
		!strings.HasPrefix(f["publicKeyPem"].(string), "-----BEGIN PUBLIC KEY-----") ||
		!strings.HasPrefix(f["privateKeyPem"].(string), "-----BEGIN PRIVATE KEY-----") {
		t.Errorf("file = %s", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("identity dir holds %d entries, want just device.json (no temp files)", len(entries))
	}

	again, err := LoadOrCreateIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if again.DeviceID != id.DeviceID || !bytes.Equal(again.PrivateKey, id.PrivateKey) {
		t.Fatal("reloading gave a different identity")
	}
	if s := id.String(); strings.Contains(s, "PRIVATE") || !strings.Contains(s, protocol.Fingerprint(id.DeviceID)) {
		t.Errorf("String() = %q", s)
	}
}

func TestCorruptIdentityIsNeverReplaced(t *testing.T) {
	good, err := LoadOrCreateIdentity(filepath.Join(t.TempDir(), "device.json"))
	if err != nil {
		t.Fatal(err)
	}
	goodData, _ := encodeIdentity(good)
	other, _ := NewIdentity()

	cases := map[string][]byte{
		"truncated": goodData[:len(goodData)/2],
		"garbage":   []byte("not json"),
		"version":   bytes.Replace(goodData, []byte(`"version": 1`), []byte(`"version": 2`), 1),
		"wrong id":  bytes.Replace(goodData, []byte(good.DeviceID), []byte(other.DeviceID), 1),
		"bad pem":   bytes.Replace(goodData, []byte("BEGIN PRIVATE KEY"), []byte("BEGIN NOTHING"), 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "identity", "device.json")
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreateIdentity(path)
			if err == nil {
				t.Fatal("a corrupt identity was accepted")
			}
			if errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "move it aside") {
				t.Errorf("err = %v, want one naming the file and the way out", err)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(after, data) {
				t.Error("the corrupt file was modified")
			}
		})
	}
	t.Run("wrong id message", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "device.json")
		os.WriteFile(path, cases["wrong id"], 0o600)
		_, err := LoadIdentity(path)
		if err == nil || !strings.Contains(err.Error(), "does not match the key") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestIdentityAcceptsOpenClawFileAndTightensMode(t *testing.T) {
	id, _ := NewIdentity()
	data, _ := encodeIdentity(id)
	// OpenClaw writes createdAtMs too.
	data = bytes.Replace(data, []byte(`"version": 1,`), []byte(`"version": 1, "createdAtMs": 1795262278811,`), 1)
	path := filepath.Join(t.TempDir(), "device.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.DeviceID != id.DeviceID {
		t.Fatal("different identity")
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %o, want 0600 after loading", fi.Mode().Perm())
	}
}

func TestConcurrentCreateAgreesOnOneIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity", "device.json")
	ids := make(chan string, 8)
	for range 8 {
		go func() {
			id, err := LoadOrCreateIdentity(path)
			if err != nil {
				t.Error(err)
				ids <- ""
				return
			}
			ids <- id.DeviceID
		}()
	}
	first := <-ids
	for range 7 {
		if got := <-ids; got != first {
			t.Fatalf("racing creators got %s and %s", first, got)
		}
	}
}

func TestResolveURL(t *testing.T) {
	t.Setenv(EnvGatewayURL, "")
	t.Setenv(EnvGatewayPort, "")
	if got := ResolveURL(""); got != DefaultURL {
		t.Errorf("default = %s", got)
	}
	t.Setenv(EnvGatewayPort, "19001")
	if got := ResolveURL(""); got != "ws://127.0.0.1:19001" {
		t.Errorf("with port env = %s", got)
	}
	t.Setenv(EnvGatewayURL, "wss://gw.example:443")
	if got := ResolveURL(" "); got != "wss://gw.example:443" {
		t.Errorf("env = %s", got)
	}
	if got := ResolveURL("ws://10.0.0.2:18789"); got != "ws://10.0.0.2:18789" {
		t.Errorf("flag = %s", got)
	}
}

func TestNodeStateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	_, err := LoadNodeState(dir)
	if !errors.Is(err, ErrNotPaired) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing state: %v, want ErrNotPaired", err)
	}
	st := NodeState{NodeID: "abc", GatewayURL: DefaultURL, Token: "secret-token", PairedAtMs: 42, DisplayName: "Kitchen"}
	if err := SaveNodeState(dir, st); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(NodeStatePath(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("node.json mode: %v %v", fi, err)
	}
	data, _ := os.ReadFile(NodeStatePath(dir))
	var keys map[string]any
	json.Unmarshal(data, &keys)
	for _, k := range []string{"nodeId", "gatewayUrl", "token", "pairedAtMs", "displayName"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("node.json lacks %q: %s", k, data)
		}
	}
	got, err := LoadNodeState(dir)
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	if strings.Contains(st.String(), "secret-token") {
		t.Errorf("String() shows the token")
	}

	os.WriteFile(NodeStatePath(dir), []byte("{"), 0o600)
	if _, err := LoadNodeState(dir); err == nil || !strings.Contains(err.Error(), NodeStatePath(dir)) {
		t.Errorf("corrupt state: %v, want an error naming the file", err)
	}
}
