package tui

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// askOnce has a fresh (or given) node ask to pair and returns at once with
// the gateway's answer to the request; the node stays connected, waiting.
func askOnce(t *testing.T, url string, id *client.Identity, name string, silent bool) (*client.Client, protocol.PairRequestResult, error) {
	t.Helper()
	if id == nil {
		var err error
		if id, err = client.NewIdentity(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: url, Role: protocol.RoleNode, Identity: id,
		Client: protocol.ClientInfo{Platform: "ios"}})
	if err != nil {
		t.Fatalf("node dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	res, err := c.PairRequest(ctx, protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: name}, Silent: &silent})
	return c, res, err
}

// resolvedFor waits for the node's copy of the decision on its request.
func resolvedFor(t *testing.T, c *client.Client, requestID string) protocol.ResolvedEvent {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case u := <-c.Updates():
			if u.Event == nil || u.Event.Event != protocol.EventPairResolved {
				continue
			}
			ev := decodeEvent[protocol.ResolvedEvent](t, u.Event)
			if ev.RequestID == requestID {
				return ev
			}
		case <-deadline:
			t.Fatalf("no decision on %s", requestID)
		}
	}
}

func decodeEvent[T any](t *testing.T, ev *protocol.Event) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(ev.Payload, &v); err != nil {
		t.Fatalf("event %s: %v", ev.Event, err)
	}
	return v
}

func TestFlowPairingKeyTogglesTheGateway(t *testing.T) {
	gw := startGateway(t)
	op := gw.g.Local(store.Actor{ClientID: "console", Role: "operator"})
	t.Cleanup(op.Close)
	tm := console(t, op, Options{Endpoint: "embedded · test"})
	tm.wait(t, "No pending requests", "● pairing on")

	tm.mark()
	tm.press("P")
	tm.wait(t, "⊘ pairing off", "Pairing is off")
	if gw.g.PairingEnabled() {
		t.Fatal("the key did not switch the gateway")
	}
	_, _, err := askOnce(t, gw.url, nil, "Too Late", false)
	if pe := (*protocol.Error)(nil); !errors.As(err, &pe) || pe.Reason() != protocol.ReasonPairingDisabled {
		t.Fatalf("a node asked while pairing was off: %v", err)
	}

	// Switched on elsewhere: the header follows.
	tm.mark()
	gw.g.SetPairingEnabled(true)
	tm.wait(t, "● pairing on")
	m := tm.final(t)
	var kinds []activityKind
	m.activity.list.Each(func(e activityEntry) { kinds = append(kinds, e.kind) })
	if len(kinds) != 2 || kinds[0] != actPairingOn || kinds[1] != actPairingOff {
		t.Errorf("activity: %v", kinds)
	}
}

func TestFlowBlockAndUnblockOverWebSocket(t *testing.T) {
	gw := startGateway(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{URL: gw.url, Token: flowToken, Reconnect: true})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// As cmd/pairdeck hands it over: the client says what the gateway offers.
	tm := console(t, clientConsole{c}, Options{Remote: true, Endpoint: gw.url})
	tm.wait(t, "No pending requests", "● connected")

	id, err := client.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	node, res, err := askOnce(t, gw.url, id, "Door Spammer", false)
	if err != nil {
		t.Fatal(err)
	}
	tm.wait(t, "Door Spammer")
	tm.mark()
	tm.press("b")
	tm.wait(t, "Block Door Spammer?")
	tm.mark()
	tm.press("y")
	// pairdeck's gateway keeps a reason: the console asks for one.
	tm.wait(t, "block Door Spammer, reason (optional) ›", "enter block without a reason")
	tm.mark()
	for _, r := range "scanner" {
		tm.tm.Send(runeKey(r))
	}
	tm.press("enter")
	tm.wait(t, "Blocked Door Spammer and rejected its request", "Blocked 1")
	if ev := resolvedFor(t, node, res.Request.RequestID); ev.Decision != protocol.DecisionRejected {
		t.Fatalf("the node's request: %+v", ev)
	}

	// It asks again: refused at once, never queued, counted.
	_, _, err = askOnce(t, gw.url, id, "Door Spammer", false)
	if pe := (*protocol.Error)(nil); !errors.As(err, &pe) || pe.Reason() != protocol.ReasonBlocked {
		t.Fatalf("a blocked node asked: %v", err)
	}
	tm.mark()
	tm.press("tab", "tab", "tab")
	tm.wait(t, "[Blocked 1]", "⊘ Door Spammer")
	list, err := c.Blocked(ctx)
	if err != nil || len(list.Blocked) != 1 || list.Blocked[0].Attempts != 1 {
		t.Fatalf("block list: %+v %v", list, err)
	}
	if list.Blocked[0].Reason != "scanner" {
		t.Errorf("the gateway kept the reason %q, want the one typed", list.Blocked[0].Reason)
	}
	if pend, _ := c.List(ctx); len(pend.Pending) != 0 {
		t.Fatalf("queued: %+v", pend.Pending)
	}

	tm.mark()
	tm.press("u")
	tm.wait(t, "Unblocked Door Spammer (refused 1 time while blocked)", "Nobody is blocked")
	_, res, err = askOnce(t, gw.url, id, "Door Spammer", false)
	if err != nil || !res.Created {
		t.Fatalf("after unblocking: %+v %v", res, err)
	}
	tm.mark()
	tm.press("tab", "tab") // past Codes: pairdeck's gateway offers setup codes
	tm.wait(t, "[Pending 1]", "Door Spammer")
	tm.final(t)
}

// fakeSSH puts an ssh on PATH that runs body.
func fakeSSH(t *testing.T, body string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ssh"), []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func sshCheck(host string) *SilentCheck {
	c := client.SSHCheck{Host: host, User: "tester"}
	return &SilentCheck{Rule: "ssh-check", What: c.String(), Run: c.Run}
}

func TestFlowSilentRequestApprovedAfterSSHCheck(t *testing.T) {
	fakeSSH(t, "exit 0")
	gw := startGateway(t)
	op := gw.g.Local(store.Actor{ClientID: "pairdeck-console", Role: "operator"})
	t.Cleanup(op.Close)
	tm := console(t, op, Options{Endpoint: "embedded · test", SilentCheck: sshCheck("gw.test")})
	tm.wait(t, "No pending requests")

	node, res, err := askOnce(t, gw.url, nil, "Quiet Sensor", true)
	if err != nil {
		t.Fatal(err)
	}
	if ev := resolvedFor(t, node, res.Request.RequestID); ev.Decision != protocol.DecisionApproved || ev.Token == "" {
		t.Fatalf("the silent node's outcome: %+v", ev)
	}
	tm.wait(t, "Approved Quiet Sensor (ssh-check passed)", "Paired 1")
	m := tm.final(t)
	var e activityEntry
	m.activity.list.Each(func(a activityEntry) {
		if a.kind == actApproved {
			e = a
		}
	})
	if e.actor != "auto (rule ssh-check)" {
		t.Errorf("activity: %+v", e)
	}
	audit, err := os.ReadFile(filepath.Join(gw.stateDir, "nodes", "audit.jsonl"))
	if err != nil || !strings.Contains(string(audit), `"action":"approved"`) ||
		!strings.Contains(string(audit), `"clientId":"pairdeck-console","role":"operator","rule":"ssh-check"`) {
		t.Fatalf("audit log:\n%s", audit)
	}
}

func TestFlowSilentRequestWaitsWhenSSHCheckFails(t *testing.T) {
	fakeSSH(t, "echo 'tester@gw.test: Permission denied (publickey).' >&2; exit 255")
	gw := startGateway(t)
	op := gw.g.Local(store.Actor{ClientID: "pairdeck-console", Role: "operator"})
	t.Cleanup(op.Close)
	tm := console(t, op, Options{Endpoint: "embedded · test", SilentCheck: sshCheck("gw.test")})
	tm.wait(t, "No pending requests")

	node, res, err := askOnce(t, gw.url, nil, "Quiet Sensor", true)
	if err != nil {
		t.Fatal(err)
	}
	tm.wait(t, "ssh-check failed (ssh tester@gw.test failed")
	list, _ := op.List(context.Background())
	if len(list.Pending) != 1 {
		t.Fatalf("the request must stay queued: %+v", list.Pending)
	}
	// The operator decides as usual.
	tm.decide(t, "a", "Approved Quiet Sensor — the node received its token.")
	if ev := resolvedFor(t, node, res.Request.RequestID); ev.Decision != protocol.DecisionApproved {
		t.Fatalf("outcome: %+v", ev)
	}
	m := tm.final(t)
	var held activityEntry
	m.activity.list.Each(func(a activityEntry) {
		if a.kind == actHeld {
			held = a
		}
	})
	if !strings.Contains(held.note, "Permission denied (publickey).") {
		t.Errorf("activity: %+v", held)
	}
}
