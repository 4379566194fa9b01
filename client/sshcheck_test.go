package client

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSSH puts an ssh on PATH that records its arguments and then runs
// body (a shell snippet).
func fakeSSH(t *testing.T, body string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n" + body + "\n"
	if err := os.WriteFile(filepath.Join(dir, "ssh"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func TestSSHCheckPasses(t *testing.T) {
	args := fakeSSH(t, "exit 0")
	c := SSHCheck{Host: "gw.example.net", User: "alice"}
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(args)
	want := "-o\nBatchMode=yes\n-o\nConnectTimeout=5\n-l\nalice\ngw.example.net\ntrue\n"
	if string(got) != want {
		t.Fatalf("ssh was called with\n%s\nwant\n%s", got, want)
	}
	if c.String() != "ssh alice@gw.example.net" {
		t.Fatal(c.String())
	}
}

func TestSSHCheckFailsWithSSHsReason(t *testing.T) {
	fakeSSH(t, "echo 'alice@gw.example.net: Permission denied (publickey).' >&2; exit 255")
	err := SSHCheck{Host: "gw.example.net", User: "alice"}.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exit status 255: alice@gw.example.net: Permission denied (publickey).") {
		t.Fatalf("got %v", err)
	}
}

func TestSSHCheckIsBoundedInTime(t *testing.T) {
	fakeSSH(t, "exec sleep 60")
	start := time.Now()
	err := SSHCheck{Host: "gw", User: "alice", Timeout: 300 * time.Millisecond}.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a hung ssh held the check for %s", d)
	}
}

func TestSSHCheckRefusesOddHosts(t *testing.T) {
	fakeSSH(t, "exit 0")
	for _, h := range []string{"", "-oProxyCommand=x", "a b"} {
		if err := (SSHCheck{Host: h}).Run(context.Background()); err == nil {
			t.Errorf("host %q was accepted", h)
		}
	}
	t.Setenv("PATH", t.TempDir())
	if err := (SSHCheck{Host: "gw"}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no ssh program") {
		t.Fatalf("without ssh: %v", err)
	}
}

func TestSSHHost(t *testing.T) {
	for url, want := range map[string]string{
		"wss://gw.example.net:18789": "gw.example.net",
		"ws://127.0.0.1:18789":       "127.0.0.1",
		"ws://[fd00::7]:18789/x":     "fd00::7",
	} {
		if got, err := SSHHost(url); err != nil || got != want {
			t.Errorf("%s: %q %v", url, got, err)
		}
	}
	if _, err := SSHHost("not a url"); err == nil || !strings.Contains(err.Error(), "--ssh-host") {
		t.Fatalf("got %v", err)
	}
}
