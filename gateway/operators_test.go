package gateway

import (
	"slices"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// A console that embeds the gateway learns who else is attached before it
// takes the gateway away: operators over WebSocket and in this process
// (SSH consoles), never nodes, never itself.
func TestOperatorsNamesWhoElseIsAttached(t *testing.T) {
	h := newHarness(t)
	self := h.g.Local(store.Actor{ClientID: "pairdeck-console", Role: protocol.RoleOperator})
	defer self.Close()
	if got := h.g.Operators(self); len(got) != 0 {
		t.Fatalf("alone: %v", got)
	}

	ssh := h.g.Local(store.Actor{Kind: "ssh", ClientID: "pairdeck-ssh", Role: protocol.RoleOperator,
		Name: "alice@laptop", KeyFingerprint: "SHA256:qG3x", RemoteAddr: "10.0.0.7:51234"})
	defer ssh.Close()
	remote := h.operator()
	node := h.node(newIdentity(t, "node-host"), "")
	defer node.c.CloseNow()

	want := []string{"ssh alice@laptop (SHA256:qG3x)", "test-cli from 127.0.0.1"}
	if got := h.g.Operators(self); !slices.Equal(got, want) {
		t.Fatalf("Operators = %q, want %q", got, want)
	}
	if got := h.g.Operators(nil); len(got) != 3 {
		t.Errorf("without except: %q", got)
	}

	// They leave: the list follows.
	ssh.Close()
	remote.c.Close(websocket.StatusNormalClosure, "bye")
	deadline := time.Now().Add(waitLong)
	for len(h.g.Operators(self)) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after they left: %q", h.g.Operators(self))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
