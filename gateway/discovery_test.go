package gateway

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveTokenPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvToken, "")
	if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{"gateway":{"auth":{"token":"from-config"},"port":1}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(flag, wantTok, wantSrc string) {
		t.Helper()
		tok, src, err := ResolveToken(flag, dir)
		if err != nil || tok != wantTok || src != wantSrc {
			t.Fatalf("ResolveToken(%q) = %q, %q, %v; want %q from %s", flag, tok, src, err, wantTok, wantSrc)
		}
	}
	check("from-flag", "from-flag", TokenFromFlag)
	t.Setenv(EnvToken, "from-env")
	check("from-flag", "from-flag", TokenFromFlag)
	check("", "from-env", TokenFromEnv)
	t.Setenv(EnvToken, "")
	check("", "from-config", TokenFromConfig)
	if !TokenExplicit(TokenFromConfig) || TokenExplicit(TokenFromGenerated) || TokenExplicit(TokenFromFile) {
		t.Fatalf("TokenExplicit")
	}

	if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{"gateway":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LookupToken("", dir); err == nil || !strings.Contains(err.Error(), "pairdeck serve") {
		t.Fatalf("LookupToken with no token anywhere: %v", err)
	}
	if _, err := os.Stat(TokenFile(dir)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LookupToken must not generate a token")
	}
	tok, src, err := ResolveToken("", dir)
	if err != nil || src != TokenFromGenerated || len(tok) != 43 {
		t.Fatalf("generated: %q %q %v", tok, src, err)
	}
	info, err := os.Stat(TokenFile(dir))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", info, err)
	}
	if d, _ := os.Stat(filepath.Dir(TokenFile(dir))); d.Mode().Perm() != 0o700 {
		t.Fatalf("token dir mode %v", d.Mode().Perm())
	}
	again, src, err := ResolveToken("", dir)
	if err != nil || again != tok || src != TokenFromFile {
		t.Fatalf("second start: %q %q %v", again, src, err)
	}
	if got, src, err := LookupToken("", dir); err != nil || got != tok || src != TokenFromFile {
		t.Fatalf("client lookup of the generated token: %q %q %v", got, src, err)
	}

	if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{ // comment`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ResolveToken("", dir); err == nil || !strings.Contains(err.Error(), "openclaw.json") {
		t.Fatalf("unreadable config should be named: %v", err)
	}
}

func TestResolveListen(t *testing.T) {
	t.Setenv(EnvPort, "")
	cases := []struct{ flag, env, want string }{
		{"", "", "127.0.0.1:18789"},
		{"", "19000", "127.0.0.1:19000"},
		{"0.0.0.0:1234", "19000", "0.0.0.0:1234"},
		{"4321", "", "127.0.0.1:4321"},
		{"[::1]:80", "", "[::1]:80"},
	}
	for _, c := range cases {
		t.Setenv(EnvPort, c.env)
		got, err := ResolveListen(c.flag)
		if err != nil || got != c.want {
			t.Errorf("ResolveListen(%q) with port env %q = %q, %v; want %q", c.flag, c.env, got, err, c.want)
		}
	}
	for _, bad := range []string{"localhost", "host:port", "1:99999"} {
		t.Setenv(EnvPort, "")
		if _, err := ResolveListen(bad); err == nil {
			t.Errorf("ResolveListen(%q) accepted", bad)
		}
	}
	t.Setenv(EnvPort, "http")
	if _, err := ResolveListen(""); err == nil || !strings.Contains(err.Error(), EnvPort) {
		t.Errorf("bad port env: %v", err)
	}
}

func TestCheckBind(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1", "127.8.9.10:1"} {
		if err := CheckBind(addr, false); err != nil {
			t.Errorf("loopback %s refused: %v", addr, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:1", ":1", "192.168.1.5:1", "[::]:1"} {
		err := CheckBind(addr, false)
		if err == nil || !strings.Contains(err.Error(), "--token") {
			t.Errorf("%s without an explicit token: %v", addr, err)
		}
		if err := CheckBind(addr, true); err != nil {
			t.Errorf("%s with an explicit token: %v", addr, err)
		}
	}
}

func TestRuntimeFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRuntime(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	rt := Runtime{URL: "ws://127.0.0.1:18789", PID: os.Getpid(), StartedAtMs: 1, Version: "1.0"}
	if err := WriteRuntime(dir, rt); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(RuntimeFile(dir)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("runtime file mode: %v %v", info, err)
	}
	got, err := ReadRuntime(dir)
	if err != nil || !got.Alive || got.StartedAtMs != 1 || got.URL != rt.URL || got.PID != rt.PID || got.Version != "1.0" {
		t.Fatalf("read back: %+v %v", got, err)
	}

	// A crashed gateway's file: its pid is gone.
	rt.PID, rt.StartedAtMs = deadPID(t), 0
	if err := WriteRuntime(dir, rt); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadRuntime(dir); err != nil || got.Alive || got.StartedAtMs == 0 {
		t.Fatalf("stale file reported alive: %+v %v", got, err)
	}

	if err := RemoveRuntime(dir); err != nil {
		t.Fatal(err)
	}
	if err := RemoveRuntime(dir); err != nil {
		t.Fatalf("second remove: %v", err)
	}
	if err := os.WriteFile(RuntimeFile(dir), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRuntime(dir); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("corrupt file: %v", err)
	}
}

// deadPID returns a pid no process has: one above the kernel's maximum.
func deadPID(t *testing.T) int {
	t.Helper()
	max := 4194304
	if data, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		var n int
		for _, c := range strings.TrimSpace(string(data)) {
			n = n*10 + int(c-'0')
		}
		max = n
	}
	return max + 1
}

// openclaw.json's token as OpenClaw reads it: ${VAR} substituted, an env
// secret reference followed; what cannot be followed is an error, never a
// token taken literally.
func TestConfigTokenReferences(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvToken, "")
	t.Setenv("PD_TEST_SECRET", "s3cret")
	for _, c := range []struct {
		token, want, err string
	}{
		{`"${PD_TEST_SECRET}"`, "s3cret", ""},
		{`"pre-${PD_TEST_SECRET}"`, "pre-s3cret", ""},
		{`{"source":"env","id":"PD_TEST_SECRET"}`, "s3cret", ""},
		{`"${PD_TEST_UNSET}"`, "", "$PD_TEST_UNSET, which is not set"},
		{`{"source":"env","id":"PD_TEST_UNSET"}`, "", "$PD_TEST_UNSET, which is not set"},
		{`{"source":"file","id":"/x"}`, "", `source "file"`},
		{`42`, "", "neither a string nor a secret reference"},
	} {
		if err := os.WriteFile(filepath.Join(dir, "openclaw.json"), []byte(`{"gateway":{"auth":{"token":`+c.token+`}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		tok, src, err := LookupToken("", dir)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "--token-file") {
				t.Errorf("%s: %q %v, want an error saying %q", c.token, tok, err, c.err)
			}
			continue
		}
		if err != nil || tok != c.want || src != TokenFromConfig {
			t.Errorf("%s: %q %q %v, want %q", c.token, tok, src, err, c.want)
		}
	}
}
