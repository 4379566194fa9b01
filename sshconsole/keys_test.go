package sshconsole

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"
)

func authorizedLine(t *testing.T, options, comment string) (string, string) {
	t.Helper()
	k := newKey(t).PublicKey()
	line := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k)))
	if options != "" {
		line = options + " " + line
	}
	if comment != "" {
		line += " " + comment
	}
	return line, gossh.FingerprintSHA256(k)
}

// Lines whose options restrict their key in ways the console cannot
// honour let nobody in; harmless options, comments, blank lines and
// duplicates are read as sshd reads them.
func TestAuthorizedKeysLines(t *testing.T) {
	t.Parallel()
	plain, plainFP := authorizedLine(t, "", "alice@laptop")
	restricted, restrictedFP := authorizedLine(t, `restrict,no-port-forwarding,pty`, "bob@desk")
	noComment, noCommentFP := authorizedLine(t, "", "")
	hostile, hostileFP := authorizedLine(t, "", "eve\x1b]2;pwned\x07")
	var refused []string
	var lines []string
	for _, opt := range []string{`command="borg serve"`, `from="10.0.0.0/8"`, `no-pty`, `expiry-time="20300101"`, `cert-authority`, `frobnicate`} {
		l, fp := authorizedLine(t, opt, "someone")
		lines = append(lines, l)
		refused = append(refused, fp)
	}
	dupOfPlain := strings.Replace(plain, "alice@laptop", "alice-again", 1)
	data := strings.Join(append([]string{
		"# operators", "", plain, "   ", restricted, noComment, "not a key at all", dupOfPlain, hostile,
	}, lines...), "\n")

	keys, notes := parseAuthorizedKeys([]byte(data))
	byFP := map[string]authorizedKey{}
	for _, k := range keys {
		byFP[k.fingerprint] = k
	}
	want := map[string]string{plainFP: "alice@laptop", restrictedFP: "bob@desk", noCommentFP: "", hostileFP: ""}
	if len(byFP) != len(want) {
		t.Fatalf("got %d keys, want %d: %+v", len(byFP), len(want), byFP)
	}
	for fp, comment := range want {
		k, ok := byFP[fp]
		if !ok || k.comment != comment {
			t.Errorf("key %s: got %+v (present %v), want comment %q", fp, k, ok, comment)
		}
	}
	for _, fp := range refused {
		if _, ok := byFP[fp]; ok {
			t.Errorf("key %s with a restricting option was let in", fp)
		}
	}
	// One note per refused line, the bad line and the hostile comment, each
	// with its line number.
	if len(notes) != len(refused)+2 {
		t.Fatalf("notes = %+v", notes)
	}
	if notes[0].line != 7 || !strings.Contains(notes[0].why, "not a public key") {
		t.Errorf("first note = %+v, want line 7 not a public key", notes[0])
	}
	if !strings.Contains(notes[2].why, "option command") || !strings.Contains(notes[len(notes)-1].why, `"frobnicate" is not known`) {
		t.Errorf("notes = %+v", notes)
	}
}

// The host key is made once, private, and the same after a restart; one
// others could read is made private again, and a link in its place or a
// file that is not a key is refused.
func TestHostKeyIsMadeOnceAndKeptPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := HostKeyFile(dir)
	log := discardLogger()
	first, err := LoadOrCreateHostKey(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if first.PublicKey().Type() != gossh.KeyAlgoED25519 {
		t.Errorf("host key type %s, want ed25519", first.PublicKey().Type())
	}
	checkPerm := func(p string, mode os.FileMode) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %04o, want %04o", p, fi.Mode().Perm(), mode)
		}
	}
	checkPerm(path, 0o600)
	checkPerm(filepath.Dir(path), 0o700)
	again, err := LoadOrCreateHostKey(path, log)
	if err != nil {
		t.Fatal(err)
	}
	if gossh.FingerprintSHA256(again.PublicKey()) != gossh.FingerprintSHA256(first.PublicKey()) {
		t.Fatal("a restart changed the host key")
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateHostKey(path, log); err != nil {
		t.Fatal(err)
	}
	checkPerm(path, 0o600)

	link := filepath.Join(filepath.Dir(path), "link-key")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateHostKey(link, log); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("a linked host key: err = %v", err)
	}

	garbage := filepath.Join(filepath.Dir(path), "garbage")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateHostKey(garbage, log); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("a garbage host key: err = %v", err)
	}
}

// The authorized keys file must exist when the server starts, and be a
// regular file of a sensible size.
func TestAuthorizedKeysFileIsCheckedAtStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := discardLogger()
	if _, err := newAuthorizedKeys(filepath.Join(dir, "missing"), log); err == nil || !strings.Contains(err.Error(), "--ssh-authorized-keys") {
		t.Fatalf("missing file: err = %v", err)
	}
	if _, err := newAuthorizedKeys(dir, log); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a directory: err = %v", err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxAuthorizedKeysBytes+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := newAuthorizedKeys(big, log); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a huge file: err = %v", err)
	}
}
