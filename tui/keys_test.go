package tui

import (
	"reflect"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"

	"github.com/pairdeck/pairdeck/protocol"
)

// keyStates are screens an operator can be on, each built afresh (models
// share their rows' maps, so one built from another would change it).
func keyStates(t *testing.T) map[string]func() Model {
	t.Helper()
	withBlockList := func(m Model) Model {
		paired, infos := pairedNodes()
		return step(t, m, refreshedMsg{
			list:  protocol.PairListResult{Pending: threeRequests(), Paired: paired},
			nodes: protocol.NodeListResult{Nodes: infos},
			policy: &policySnapshot{
				pairing: protocol.PairingState{Enabled: true},
				blocked: []protocol.BlockedNode{{NodeID: nodeID("Pest"), DisplayName: "Pest", BlockedAtMs: t0.UnixMilli()}},
			},
		})
	}
	fresh := func() Model { m, _ := newModel(t, 80, 24); return m }
	base := func(keys ...string) func() Model {
		return func() Model { return press(t, withBlockList(fresh()), keys...) }
	}
	busy := func(keys ...string) func() Model {
		return func() Model {
			m := step(t, withBlockList(fresh()), decideMsg{action: approve, targets: []decisionTarget{{requestID: "req-kitchen", name: "Kitchen Display"}}})
			return press(t, m, keys...)
		}
	}
	otherGateway := func(keys ...string) func() Model {
		return func() Model { return press(t, step(t, fresh(), withPaired(threeRequests())), keys...) }
	}
	return map[string]func() Model{
		"loading":               fresh,
		"empty queue":           func() Model { return step(t, fresh(), listed(nil)) },
		"queue":                 base(),
		"queue, marked":         base("space"),
		"queue, filter applied": func() Model { return press(t, typeText(t, base("/")(), "kit"), "enter") },
		"queue, row busy":       busy(),
		"queue, expired row": func() Model {
			m, clk := newModel(t, 80, 24)
			m = press(t, withBlockList(m), "G")
			clk.Advance(31 * time.Second)
			return step(t, m, tickMsg{})
		},
		"detail":           base("enter"),
		"detail, row busy": busy("enter"),
		"paired":           base("tab"),
		"paired detail":    base("tab", "enter"),
		"activity":         base("tab", "tab"),
		"blocked":          base("tab", "tab", "tab"),
		"help":             base("?"),
		"messages":         base("a", "m"), // a refusal said something
		"quit dialog": func() Model {
			others := []string{"alice@laptop (ssh SHA256:qG3x)"}
			return press(t, quitting(t, &others), "q")
		},
		"queue, after a message": base("a"),
		"help, empty queue":      func() Model { return press(t, step(t, fresh(), listed(nil)), "?") },
		"help, scrolled": func() Model {
			m := step(t, fresh(), listed(nil))
			return press(t, step(t, m, windowSize(60, 15)), "?", "j", "j")
		},
		"bulk dialog":         base("space", "A"),
		"rename":              base("n"),
		"filter":              base("/"),
		"codes":               func() Model { m, _ := codesModel(t, 80, 24); return m },
		"codes, detail":       func() Model { m, _ := codesModel(t, 80, 24); return press(t, m, "enter") },
		"codes, used-up row":  func() Model { m, _ := codesModel(t, 80, 24); return press(t, m, "j", "j") },
		"codes, form":         func() Model { m, _ := codesModel(t, 80, 24); return press(t, m, "n") },
		"codes, form on exec": func() Model { m, _ := codesModel(t, 80, 24); return press(t, m, "n", "up", "up") },
		"codes, shown once": func() Model {
			m, _ := codesModel(t, 60, 15)
			return step(t, press(t, m, "n", "enter"), created(t))
		},
		"reason input":                   func() Model { m, _ := reasonModel(t, 80, 24); return press(t, m, "r") },
		"not a pairdeck gateway":         otherGateway(),
		"not a pairdeck gateway, detail": otherGateway("enter"),
	}
}

// "?" never lies: on every screen, a key the help offers does something,
// and a key it does not offer does nothing (or, for a key that acts on a
// row, says why not).
func TestHelpOffersExactlyTheKeysThatAct(t *testing.T) {
	for name, build := range keyStates(t) {
		m := build()
		k := m.keys
		enabled := map[string]bool{} // key name → some enabled binding has it
		for _, b := range k.all() {
			if b.Enabled() {
				for _, kn := range b.Keys() {
					enabled[kn] = true
				}
			}
		}
		v := reflect.ValueOf(k)
		for i := range v.NumField() {
			b := v.Field(i).Interface().(key.Binding)
			field := v.Type().Field(i).Name
			if isMovement(field) || field == "Interrupt" {
				continue // moving at an edge does nothing, by design
			}
			kn := b.Keys()[0]
			acted, refused := pressEffect(t, build(), kn)
			if (m.prompt != nil || m.codeForm != nil) && !b.Enabled() {
				continue // an open input takes every other key as text
			}
			switch {
			case b.Enabled() && !acted:
				t.Errorf("%s: %s (%q) is offered but does nothing", name, field, kn)
			case !b.Enabled() && !enabled[kn] && acted && !refused:
				t.Errorf("%s: %s (%q) is not offered but acts", name, field, kn)
			}
		}
	}
}

func isMovement(field string) bool {
	switch field {
	case "Up", "Down", "Top", "Bottom", "PageUp", "PageDown":
		return true
	}
	return false
}

// pressEffect presses kn on a copy of m and reports whether anything
// happened (the frame changed or a message was sent), and whether what
// happened was only a refusal explained.
func pressEffect(t *testing.T, m Model, kn string) (acted, refused bool) {
	t.Helper()
	before := frameOf(m)
	next, seen := stepMsgs(t, m, keyMsg(kn))
	refused = len(seen) > 0
	for _, msg := range seen {
		if _, ok := msg.(refusedMsg); !ok {
			refused = false
		}
	}
	return frameOf(next) != before || len(seen) > 0, refused
}

// The detail pane acts on its row exactly as the list acts on the row
// under the cursor: the same keys apply, for the same reasons.
func TestDetailPaneActsAsItsListDoes(t *testing.T) {
	states := keyStates(t)
	for _, pair := range [][2]string{
		{"queue", "detail"},
		{"queue, row busy", "detail, row busy"},
		{"not a pairdeck gateway", "not a pairdeck gateway, detail"},
	} {
		list, detail := states[pair[0]]().keys, states[pair[1]]().keys
		for _, b := range []string{"Approve", "Reject", "Rename", "Block"} {
			l := reflect.ValueOf(list).FieldByName(b).Interface().(key.Binding)
			d := reflect.ValueOf(detail).FieldByName(b).Interface().(key.Binding)
			if l.Enabled() != d.Enabled() {
				t.Errorf("%s vs %s: %s enabled %v in the list, %v in the detail", pair[0], pair[1], b, l.Enabled(), d.Enabled())
			}
		}
	}
	// b on a row whose approval is in flight asks nothing, in either.
	for _, name := range []string{"queue, row busy", "detail, row busy"} {
		m, _ := stepMsgs(t, states[name](), keyMsg("b"))
		if m.confirm != nil {
			t.Errorf("%s: b opened %q", name, m.confirm.title)
		}
	}
}

func TestEveryBindingHasHelp(t *testing.T) {
	k := DefaultKeyMap()
	v := reflect.ValueOf(k)
	for i := range v.NumField() {
		b := v.Field(i).Interface().(key.Binding)
		if len(b.Keys()) == 0 || b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("%s: keys %v help %+v", v.Type().Field(i).Name, b.Keys(), b.Help())
		}
	}
	if got, want := len(k.all()), v.NumField(); got != want {
		t.Errorf("KeyMap.all lists %d of %d bindings", got, want)
	}
}
