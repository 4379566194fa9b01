package sshconsole

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// A node asks to pair; an operator signed in with an SSH key approves it
// with `a` in the console over SSH. The node is paired, and the audit log,
// the events other operators get and another console's Activity name that
// key as the one who approved.
func TestApprovalOverSSHIsAuditedAsTheKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	alice := f.authorize("alice@laptop")
	bob := f.authorize("bob@desk")
	aliceFP := gossh.FingerprintSHA256(alice.PublicKey())

	// Another operator in the gateway's process, to see the events.
	watcher := f.gw.Local(protocol.Actor{ClientID: "watcher"})
	defer watcher.Close()

	tm := openConsole(t, f.mustDial(alice), 120, 30, nil)
	tm.waitText("Pending 0")
	tm.waitText("pairdeck · ssh · alice@laptop") // the header says who is signed in
	other := openConsole(t, f.mustDial(bob), 160, 30, nil)
	other.waitText("Pending 0")

	id, err := client.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	paired := make(chan error, 1)
	var outcome client.PairOutcome
	go func() {
		var err error
		outcome, err = client.Pair(ctx, client.Config{URL: f.url, Identity: id,
			Client: protocol.ClientInfo{DisplayName: "kitchen-ipad", Platform: "ios"}},
			protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "kitchen-ipad", Platform: "ios"}})
		paired <- err
	}()

	// A decision key acts only on a request that has been in view a
	// moment (half a second): wait until its countdown (from the 5:00 of
	// the default TTL) says a second has passed.
	asked := regexp.MustCompile(`kitchen-ipad .* 4:5[0-8]\b`)
	tm.waitScreen("the request in view for a second", func(rows []string) bool {
		return asked.MatchString(strings.Join(rows, "\n"))
	})
	tm.press("a")

	select {
	case err := <-paired:
		if err != nil {
			t.Fatalf("pair: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("the node was not approved; screen:\n%s", strings.Join(tm.screen(), "\n"))
	}
	if outcome.Decision != protocol.DecisionApproved || outcome.Token == "" {
		t.Fatalf("outcome = %+v, want approved with a token", outcome)
	}

	// The audit log names the key.
	line := waitAuditLine(t, f.stateDir, "approved", id.DeviceID)
	var ev struct {
		Actor protocol.Actor `json:"actor"`
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	want := protocol.Actor{Kind: "ssh", ClientID: clientID, Role: protocol.RoleOperator, User: "operator",
		Name: "alice@laptop", KeyFingerprint: aliceFP, RemoteAddr: ev.Actor.RemoteAddr}
	if ev.Actor != want || !strings.HasPrefix(ev.Actor.RemoteAddr, "127.0.0.1:") {
		t.Fatalf("audit actor = %+v, want %+v from 127.0.0.1", ev.Actor, want)
	}
	if !strings.HasPrefix(aliceFP, "SHA256:") {
		t.Fatalf("fingerprint %q is not as ssh-keygen prints it", aliceFP)
	}

	// So does the event other operators get.
	wantActor := "ssh alice@laptop (" + aliceFP + ")"
	waitResolvedBy(t, watcher.Updates(), id.DeviceID, wantActor)

	// And the Activity view of another console (its BY column may cut the
	// fingerprint short).
	other.press("\t\t")
	other.waitText("[Activity]")
	other.waitScreen("the approval by alice's key", func(rows []string) bool {
		for _, r := range rows {
			if strings.Contains(r, "approved") && strings.Contains(r, "kitchen-ipad") && strings.Contains(r, "ssh alice@laptop (SHA256:") {
				return true
			}
		}
		return false
	})
}

// waitAuditLine waits for the audit log line of action on node.
func waitAuditLine(t *testing.T, stateDir, action, nodeID string) string {
	t.Helper()
	path := filepath.Join(stateDir, "nodes", "audit.jsonl")
	deadline := time.Now().Add(waitFor)
	for {
		data, _ := os.ReadFile(path)
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			var ev struct {
				Action string `json:"action"`
				NodeID string `json:"nodeId"`
			}
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Action == action && ev.NodeID == nodeID {
				return sc.Text()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q line for %s in %s:\n%s", action, nodeID, path, data)
		}
		// The line is written before the node hears of its approval, so
		// this is only ever a second look.
		time.Sleep(20 * time.Millisecond)
	}
}

func waitResolvedBy(t *testing.T, updates <-chan protocol.Update, nodeID, actor string) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatal("updates closed")
			}
			if u.Event == nil || u.Event.Event != protocol.EventPairResolved {
				continue
			}
			var ev protocol.ResolvedEvent
			if err := json.Unmarshal(u.Event.Payload, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.NodeID != nodeID {
				continue
			}
			if ev.Actor != actor {
				t.Fatalf("resolved event actor = %q, want %q", ev.Actor, actor)
			}
			return
		case <-deadline:
			t.Fatalf("no resolved event for %s", nodeID)
		}
	}
}

// A key that is not in the authorized keys file does not get in, and the
// server logs which key tried.
func TestUnknownKeyIsRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.authorize("alice@laptop")
	stranger := newKey(t)
	_, err := f.dial(stranger)
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("dial with an unknown key: err = %v, want an authentication failure", err)
	}
	f.logs.waitLine(t, "sign-in refused", gossh.FingerprintSHA256(stranger.PublicKey()), "remote=127.0.0.1:", "user=operator")
}

// A session without a terminal gets one line saying to use ssh -t, and
// status 1; so does one that names a command.
func TestSessionsWithoutTerminalOrWithCommandAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.mustDial(f.authorize("alice@laptop"))

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	err = sess.Wait()
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Fatalf("no-pty session: err = %v, want exit status 1", err)
	}
	msg := stderr.String()
	if !strings.Contains(msg, "needs a terminal") || !strings.Contains(msg, "ssh -t -p ") || strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
		t.Fatalf("no-pty session said stdout %q, stderr %q; want one line naming ssh -t", stdout.String(), msg)
	}

	sess, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("cat /etc/passwd")
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(string(out), "connect without a command") {
		t.Fatalf("command session: err = %v, output %q", err, out)
	}
}

// Beyond the session limit, a session is told the limit and why.
func TestSessionLimitIsNamed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *Config) { c.MaxSessions = 1 })
	c := f.mustDial(f.authorize("alice@laptop"))
	first := openConsole(t, c, 80, 24, nil)
	first.waitText("Pending 0")

	second := openConsole(t, c, 80, 24, nil)
	err := second.waitEnd()
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 {
		t.Fatalf("second session: err = %v, want exit status 1", err)
	}
	if out := second.output(); !strings.Contains(out, "1 open over SSH, the most this gateway serves at once") {
		t.Fatalf("second session said %q", out)
	}
	// The first one is unaffected.
	first.press("\t")
	first.waitText("[Paired 0]")
}

// A window change over SSH reflows the console to the new size.
func TestResizeOverSSHReflowsTheConsole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tm := openConsole(t, f.mustDial(f.authorize("alice@laptop")), 80, 24, nil)
	// The header spans the width (the pairing switch at its right end) and
	// the footer sits on the last row.
	fits := func(w, h int) func([]string) bool {
		return func(rows []string) bool {
			return len(rows) == h && width(rows[0]) == w && strings.Contains(rows[0], "pairing") &&
				strings.HasSuffix(rows[h-1], "q quit") && strings.Contains(rows[1], "Pending 0")
		}
	}
	tm.waitScreen("an 80×24 frame", fits(80, 24))

	tm.resize(132, 40)
	tm.waitScreen("a 132×40 frame", fits(132, 40))

	tm.resize(60, 15)
	rows := tm.waitScreen("a 60×15 frame", fits(60, 15))
	for i, r := range rows {
		if width(r) > 60 {
			t.Fatalf("row %d is %d wide at 60 columns: %q", i, width(r), r)
		}
	}
}

// When the gateway shuts down, the console shows it, then the session
// ends with a line saying so.
func TestGatewayShutdownEndsTheSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tm := openConsole(t, f.mustDial(f.authorize("alice@laptop")), 100, 24, nil)
	tm.waitText("Pending 0")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { f.stop(ctx) })
	tm.waitText("disconnected: gateway is shutting down")
	if err := tm.waitEnd(); err != nil {
		t.Fatalf("session ended with %v, want status 0", err)
	}
	wg.Wait()
	want := "pairdeck: the gateway at " + f.url + " shut down, so this console has closed."
	if out := tm.output(); !strings.Contains(out, want) {
		t.Fatalf("the session's last words were not %q:\n%q", want, lastBytes(out, 300))
	}
	tm.waitText(want) // on the main screen, after the console left it
}

func lastBytes(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// sgrColour matches an SGR sequence that sets a colour (foreground or
// background, any depth).
var sgrColour = regexp.MustCompile(`\x1b\[(?:[0-9;:]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:[;:][0-9;:]*)?m`)

// Each session draws in its own terminal's colours: NO_COLOR from the
// client means no colour at all; without it, an xterm-256color session is
// painted in colour.
func TestEachSessionHasItsOwnColours(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.mustDial(f.authorize("alice@laptop"))

	plain := openConsole(t, c, 100, 24, map[string]string{"NO_COLOR": "1", "COLORFGBG": "0;15"})
	plain.waitText("Pending 0")
	coloured := openConsole(t, c, 100, 24, nil)
	coloured.waitText("Pending 0")

	if m := sgrColour.FindString(plain.output()); m != "" {
		t.Fatalf("a NO_COLOR session got colour %q", m)
	}
	if sgrColour.FindString(coloured.output()) == "" {
		t.Fatalf("an xterm-256color session got no colour: %q", lastBytes(coloured.output(), 300))
	}
	f.logs.waitLine(t, "console opened", "colors=Ascii", "theme=light")
	f.logs.waitLine(t, "console opened", "colors=ANSI256", "theme=dark")
}

// Failed sign-ins from one address turn it away for a while: then even a
// good key from there cannot connect, until the window has passed.
func TestFailedSignInsTurnTheAddressAway(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, func(c *Config) { c.MaxFailures = 2; c.FailureWindow = time.Minute; c.Now = clock })
	alice := f.authorize("alice@laptop")
	stranger := newKey(t)

	for range 2 {
		if _, err := f.dial(stranger); err == nil {
			t.Fatal("an unknown key got in")
		}
	}
	f.logs.waitLine(t, "turned away", "remote=127.0.0.1")
	if _, err := f.dial(alice); err == nil || strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("a turned-away address got as far as signing in (err = %v)", err)
	}

	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if _, err := f.dial(alice); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// The authorized keys file is read again when it changes: a key added
// gets in without a restart, a key removed no longer does.
func TestAuthorizedKeysFollowTheFile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	if _, err := f.dial(newKey(t)); err == nil {
		t.Fatal("an empty file let a key in")
	}
	carol := f.authorize("carol@ops")
	if _, err := f.dial(carol); err != nil {
		t.Fatalf("a key added to the file: %v", err)
	}
	if err := os.WriteFile(f.keysFile, []byte("# carol left\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dial(carol); err == nil {
		t.Fatal("a key removed from the file still got in")
	}
	if err := os.Remove(f.keysFile); err != nil {
		t.Fatal(err)
	}
	if _, err := f.dial(carol); err == nil {
		t.Fatal("a missing file let a key in")
	}
	f.logs.waitLine(t, "cannot read the authorized keys file")
}
