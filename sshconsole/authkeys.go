package sshconsole

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/pairdeck/pairdeck/protocol"
)

// authorizedKey is one key the authorized-keys file lets in.
type authorizedKey struct {
	fingerprint string // SHA256:…, as ssh-keygen -l prints it
	comment     string // whose it is, as the file says
}

// authorizedKeys is the operators' keys, in OpenSSH's authorized_keys
// format. The file is checked (one stat) on every sign-in and read again
// when it has changed, so adding or removing a line takes effect at the
// next connection, without a restart.
type authorizedKeys struct {
	path string
	log  *slog.Logger

	mu      sync.Mutex
	stamp   os.FileInfo // of the file as last read; nil when unread
	keys    map[string]authorizedKey
	lastErr string // the last read error logged, so it is logged once
}

func newAuthorizedKeys(path string, log *slog.Logger) (*authorizedKeys, error) {
	a := &authorizedKeys{path: path, log: log}
	fi, err := os.Stat(path)
	if err == nil {
		err = a.read(fi)
	}
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("authorized keys file %s does not exist: put the operators' public keys there (one per line, as in ~/.ssh/authorized_keys) or name another file with --ssh-authorized-keys", path)
		}
		return nil, fmt.Errorf("authorized keys: %w", err)
	}
	if len(a.keys) == 0 {
		log.Warn("ssh: no key in the authorized keys file is usable yet; nobody can sign in until one is added", "file", path)
	}
	return a, nil
}

// lookup says whether k may sign in, reading the file again if it changed.
func (a *authorizedKeys) lookup(k gossh.PublicKey) (authorizedKey, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refresh()
	ak, ok := a.keys[string(k.Marshal())]
	return ak, ok
}

// refresh re-reads the file when its identity, size or time changed. A file
// that cannot be read lets nobody in (a half-written or vanished file must
// not leave the old keys working) and says why, once.
func (a *authorizedKeys) refresh() {
	fi, err := os.Stat(a.path)
	if err == nil && a.stamp != nil && os.SameFile(fi, a.stamp) &&
		fi.Size() == a.stamp.Size() && fi.ModTime().Equal(a.stamp.ModTime()) {
		return
	}
	if err == nil {
		err = a.read(fi)
	}
	if err != nil {
		a.stamp, a.keys = nil, nil
		if msg := err.Error(); msg != a.lastErr {
			a.lastErr = msg
			a.log.Error("ssh: cannot read the authorized keys file; refusing every key until it can be read", "file", a.path, "err", err)
		}
		return
	}
	a.lastErr = ""
}

// read loads the file; fi is its stat from just before.
func (a *authorizedKeys) read(fi os.FileInfo) error {
	data, err := readAuthorizedKeysFile(a.path)
	if err != nil {
		return err
	}
	keys, notes := parseAuthorizedKeys(data)
	for _, s := range notes {
		a.log.Warn("ssh: authorized keys line", "file", a.path, "line", s.line, "problem", s.why)
	}
	a.stamp, a.keys = fi, keys
	a.log.Info("ssh: authorized keys loaded", "file", a.path, "keys", len(keys), "problems", len(notes),
		"modified", fi.ModTime().Format(time.RFC3339))
	return nil
}

// lineNote is a line of the file that lets nobody in, or not as written,
// and why.
type lineNote struct {
	line int
	why  string
}

// parseAuthorizedKeys reads authorized_keys lines. A line with an option
// that restricts its key in a way the console cannot honour (a forced
// command, a from= address list, no-pty, an expiry time, a certificate
// authority) lets nobody in rather than more than the file says; so does
// an option not known here. Options that only restrict what the console
// never offers (forwarding, X11, rc files) change nothing.
func parseAuthorizedKeys(data []byte) (map[string]authorizedKey, []lineNote) {
	keys := make(map[string]authorizedKey)
	var notes []lineNote
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		n := i + 1
		key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			notes = append(notes, lineNote{n, "not a public key: " + err.Error()})
			continue
		}
		if why := unsupportedOption(options); why != "" {
			notes = append(notes, lineNote{n, why})
			continue
		}
		id := string(key.Marshal())
		if _, dup := keys[id]; dup {
			continue // the first line for a key is the one sshd would use
		}
		comment = strings.TrimSpace(comment)
		if len(comment) > maxCommentBytes || protocol.CheckText(comment) != nil {
			// The comment names the operator in the audit log; one that
			// cannot be shown as it is names nobody. The key still works.
			notes = append(notes, lineNote{n, "comment dropped: too long or holds control characters (the key is let in, named by its fingerprint)"})
			comment = ""
		}
		keys[id] = authorizedKey{fingerprint: gossh.FingerprintSHA256(key), comment: comment}
	}
	return keys, notes
}

// maxCommentBytes bounds a key's comment, which names its operator.
const maxCommentBytes = 128

// Options that change nothing here: they restrict or grant forwarding and
// rc files, which the console never offers, or set what a shell would see.
var harmlessOptions = map[string]bool{
	"restrict": true, "no-agent-forwarding": true, "no-port-forwarding": true,
	"no-x11-forwarding": true, "no-user-rc": true, "agent-forwarding": true,
	"port-forwarding": true, "x11-forwarding": true, "user-rc": true, "pty": true,
	"environment": true, "permitopen": true, "permitlisten": true, "tunnel": true, "no-touch-required": true,
}

// unsupportedOption names the first option of a line that the console
// cannot honour, or returns "".
func unsupportedOption(options []string) string {
	for _, o := range options {
		name, _, _ := strings.Cut(o, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if harmlessOptions[name] {
			continue
		}
		switch name {
		case "command", "from", "no-pty", "expiry-time", "cert-authority", "principals", "verify-required":
			return fmt.Sprintf("option %s restricts this key in a way the console cannot honour, so the key is not let in (give pairdeck a file of its own with --ssh-authorized-keys)", name)
		}
		return fmt.Sprintf("option %q is not known here, so the key is not let in", protocol.Printable(name))
	}
	return ""
}
