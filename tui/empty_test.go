package tui

import (
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// emptyPolicy is an empty queue from a pairdeck gateway with its switch.
func emptyPolicy(enabled bool) refreshedMsg {
	msg := listed(nil)
	msg.policy = &policySnapshot{pairing: protocol.PairingState{Enabled: enabled}}
	return msg
}

// An empty queue names the next step: the command that makes a node ask,
// as the caller gave it, or the demo. With pairing off it says that no
// request can arrive and which key lets them.
func TestEmptyQueueNamesTheNextStep(t *testing.T) {
	c := &clock{t: t0}
	m := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain,
		TryCommand: "pairdeck node pair --state-dir /srv/pd --name test"})
	m = step(t, m, windowSize(80, 24))
	m = step(t, m, emptyPolicy(true))
	frame := frameOf(m)
	for _, want := range []string{
		"No pending requests. Nodes asking to join appear here.",
		"\n    pairdeck node pair --state-dir /srv/pd --name test", // on a line of its own, as typed
		"approve its request here with a",
		"`pairdeck demo`",
	} {
		if !strings.Contains(frame, want) {
			t.Errorf("pairing on: frame lacks %q:\n%s", want, frame)
		}
	}

	m = step(t, m, emptyPolicy(false))
	frame = frameOf(m)
	if !strings.Contains(frame, "none can arrive: pairing is off") || !strings.Contains(frame, "Press P to switch pairing on.") {
		t.Errorf("pairing off: frame does not say so:\n%s", frame)
	}
	if strings.Contains(frame, "node pair") {
		t.Errorf("pairing off: suggests a command that would be refused:\n%s", frame)
	}
	// The key it names does what it says.
	_, seen := stepMsgs(t, m, keyMsg("P"))
	if sw, ok := sent[setPairingMsg](seen); !ok || !sw.on {
		t.Errorf("P on an empty queue with pairing off sent %v, want setPairingMsg{on: true}", seen)
	}

	demo := New(nil, Options{Now: c.Now, Theme: "dark", ColorProfile: plain, Demo: true})
	demo = step(t, demo, windowSize(80, 24))
	demo = step(t, demo, listed(nil))
	frame = frameOf(demo)
	if !strings.Contains(frame, "Simulated nodes ask to join every few seconds") || strings.Contains(frame, "node pair") {
		t.Errorf("demo: %s", frame)
	}
}

// Without a command from the caller, the hint is the one for the default
// state dir; a filter that hides every request says so instead.
func TestEmptyQueueDefaultsAndFilteredQueue(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, listed(nil))
	if !strings.Contains(frameOf(m), "\n    "+defaultTryCommand+"\n") {
		t.Errorf("default hint missing:\n%s", frameOf(m))
	}
	m = step(t, m, listed(threeRequests()))
	m = press(t, m, "/")
	m = typeText(t, m, "nothing-like-this")
	if f := frameOf(m); strings.Contains(f, "node pair") || !strings.Contains(f, "No request matches “nothing-like-this”") {
		t.Errorf("a filtered queue is not an empty one:\n%s", f)
	}
}

func TestGoldenEmptyNarrow(t *testing.T) {
	m, _ := newModel(t, 60, 15)
	m = step(t, m, emptyPolicy(true))
	requireGolden(t, "empty_60x15", frameOf(m))
}

func TestGoldenEmptyPairingOff(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	m = step(t, m, emptyPolicy(false))
	requireGolden(t, "empty_pairing_off", frameOf(m))
}

// A re-pair is marked in the queue, as the CLI marks it, and the help
// says what the mark means.
func TestRepairRequestsAreMarked(t *testing.T) {
	m, _ := newModel(t, 80, 24)
	reqs := threeRequests()
	reqs[1].IsRepair = true // build-box-07
	m = step(t, m, listed(reqs))
	if got := lineWith(t, m, "build-box-07"); !strings.Contains(got, glyphRepair+" build-box-07") {
		t.Errorf("re-pair row: %q", got)
	}
	if got := lineWith(t, m, "Kitchen Display"); strings.Contains(got, glyphRepair) {
		t.Errorf("a first pairing is marked: %q", got)
	}
	m = press(t, m, "?", "G")
	if !strings.Contains(frameOf(m), glyphRepair+" re-pair") {
		t.Errorf("the help does not explain %s:\n%s", glyphRepair, frameOf(m))
	}
}
