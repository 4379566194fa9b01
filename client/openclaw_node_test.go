package client

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// recordedDeviceToken is the device token label's hello-ok issued.
func recordedDeviceToken(t *testing.T, r *recording, label string) (string, int) {
	t.Helper()
	var res struct {
		Payload protocol.HelloOK `json:"payload"`
	}
	r.Frame(t, label, func(w wireFrame, _ json.RawMessage) bool { return w.Type == "res" && w.OK != nil && *w.OK }, &res)
	if res.Payload.Auth == nil || res.Payload.Auth.DeviceToken == "" {
		t.Fatalf("%s issued no device token", label)
	}
	return res.Payload.Auth.DeviceToken, res.Payload.Protocol
}

func nodeConfig(t *testing.T, url, token string) Config {
	return Config{URL: url, Token: token, Identity: mustIdentity(t), Backoff: fastBackoff,
		Client: protocol.ClientInfo{DisplayName: "Recorder P"}}
}

// 2026.9.6: the node is refused without the shared token, connects with it,
// stores the device token, and waits on its own socket for the approval.
func TestOpenClawPairNodeThroughDevicePairing(t *testing.T) {
	v := "2026.9.6"
	g := newReplay(t, v, "node-connect", "node-no-token", "node-P")
	wantToken, _ := recordedDeviceToken(t, g.Rec, "node-P")
	var mu sync.Mutex
	var pendings []PairPending
	approved := make(chan struct{})
	out, err := Pair(testCtx(t), nodeConfig(t, g.URL, sharedToken(v)), protocol.PairRequestParams{
		NodeMeta: protocol.NodeMeta{DisplayName: "Recorder P", Caps: []string{"system"}, Commands: []string{"system.notify"}},
	}, func(p PairPending) {
		mu.Lock()
		pendings = append(pendings, p)
		mu.Unlock()
		go func() {
			// What the gateway sent the node's socket when an operator
			// approved its commands (no seq).
			if g.Push(t, "node-P", protocol.EventPairResolved) != 1 {
				t.Error("no recorded node.pair.resolved for node P")
			}
			close(approved)
		}()
	})
	if err != nil {
		t.Fatalf("pair: %v", err)
	}
	<-approved
	sent := g.Sent()
	if len(sent) != 2 || sent[0].Auth != nil || sent[1].Auth == nil || sent[1].Auth.Token != sharedToken(v) {
		t.Errorf("connects %+v: want one without credentials, then one with the shared token", sent)
	}
	if sent[1].Role != protocol.RoleNode || sent[1].Client.ID != "node-host" || sent[1].MinProtocol != 3 || sent[1].MaxProtocol != 4 ||
		sent[1].Client.DisplayName != "Recorder P" {
		t.Errorf("node connect = %+v", sent[1])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pendings) != 1 || pendings[0].Kind != protocol.KindNode || pendings[0].State == nil || pendings[0].State.DeviceToken != wantToken {
		t.Errorf("pending = %+v, want the node's request with the device token to save", pendings)
	}
	st := out.State
	if out.Decision != protocol.DecisionApproved || out.CommandsPending || st.DeviceToken != wantToken || st.Token != "" ||
		st.Role != protocol.RoleNode || st.Protocol != 4 || st.Approval != protocol.ApprovalApproved || st.NodeID == "" {
		t.Errorf("outcome = %+v", out)
	}
}

func TestOpenClawPairNodeWithoutSharedToken(t *testing.T) {
	g := newReplay(t, "2026.9.6", "node-connect", "node-no-token")
	_, err := Pair(testCtx(t), nodeConfig(t, g.URL, ""), protocol.PairRequestParams{})
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "shared token") || strings.Contains(err.Error(), "pair it again") {
		t.Fatalf("err = %v, want to be told the gateway wants its shared token", err)
	}
}

// 2026.4.12 and 2026.7.35 file the node's request at connect and never tell
// the node how it was decided: Pair returns once the device token is kept.
func TestOpenClawPairNodeOnNodePairingGateways(t *testing.T) {
	for _, v := range []string{"2026.4.12", "2026.7.35"} {
		t.Run(v, func(t *testing.T) {
			g := newReplay(t, v, "node-connect", "node-no-token", "node-P")
			wantToken, proto := recordedDeviceToken(t, g.Rec, "node-P")
			var hint string
			out, err := Pair(testCtx(t), nodeConfig(t, g.URL, sharedToken(v)), protocol.PairRequestParams{},
				func(p PairPending) { hint = p.Hint })
			if err != nil {
				t.Fatal(err)
			}
			if !out.CommandsPending || out.State.DeviceToken != wantToken || out.State.Protocol != proto || out.Decision != "" {
				t.Errorf("outcome = %+v", out)
			}
			if !strings.Contains(hint, "does not tell the node") {
				t.Errorf("hint %q", hint)
			}
		})
	}
}

// A node the gateway does not let in until a person approves its device
// (PAIRING_REQUIRED) reports the device request, retries, and once in keeps
// its device token even if its commands are still pending when it gives up.
func TestOpenClawPairNodeWaitsForDeviceApproval(t *testing.T) {
	v := "2026.9.6"
	g := newReplay(t, v, "device-pairing", "G-node-new", "G-after")
	// Recorded with the shared token on a gateway that wants it; here the
	// gateway lets the node try without one.
	g.CheckConnect = false
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var kinds []string
	var requestID string
	out, err := Pair(ctx, nodeConfig(t, g.URL, ""), protocol.PairRequestParams{}, func(p PairPending) {
		kinds = append(kinds, p.Kind)
		if p.Kind == protocol.KindDevice {
			requestID = p.RequestID
			if !strings.Contains(p.Hint, "openclaw devices approve "+p.RequestID) {
				t.Errorf("hint %q", p.Hint)
			}
		}
	})
	if !errors.Is(err, ErrPairTimedOut) {
		t.Fatalf("err = %v, want a timeout while the commands wait", err)
	}
	if len(kinds) != 2 || kinds[0] != protocol.KindDevice || kinds[1] != protocol.KindNode || requestID == "" {
		t.Errorf("pending kinds %v (device request %q)", kinds, requestID)
	}
	if out.State.DeviceToken == "" || !out.CommandsPending {
		t.Errorf("outcome %+v: the device token must be kept to save", out)
	}
	if n := len(g.Sent()); n != 2 {
		t.Errorf("%d connects", n)
	}
}

func TestOpenClawConnectNodeWithDeviceToken(t *testing.T) {
	for _, tc := range []struct{ version, label, auth string }{
		{"2026.9.6", "node-P-devicetoken", "deviceToken"},
		{"2026.4.12", "node-P-devicetoken-as-token", "token+deviceToken"},
	} {
		t.Run(tc.version, func(t *testing.T) {
			g := newReplay(t, tc.version, "node-connect", tc.label)
			token, proto := recordedDeviceToken(t, g.Rec, tc.label)
			id := mustIdentity(t)
			st := NodeState{NodeID: id.DeviceID, GatewayURL: g.URL, DeviceToken: "test-only-older-device-token", Role: protocol.RoleNode, Protocol: proto}
			rotated := make(chan string, 1)
			c, err := ConnectNode(testCtx(t), Config{Identity: id, Backoff: fastBackoff, OnDeviceToken: func(t string) { rotated <- t }}, st)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			a := g.Sent()[0].Auth
			if a == nil || a.DeviceToken != st.DeviceToken || (tc.auth == "deviceToken") != (a.Token == "") {
				t.Errorf("auth = %+v, want %s", a, tc.auth)
			}
			select {
			case got := <-rotated:
				if got != token {
					t.Errorf("rotated to %q, want %q", got, token)
				}
			case <-time.After(5 * time.Second):
				t.Error("a new device token in hello-ok was not handed over")
			}
		})
	}
}

func TestNodeStateWithDeviceTokenRoundTrip(t *testing.T) {
	dir := t.TempDir()
	st := NodeState{NodeID: "n1", GatewayURL: "ws://127.0.0.1:1", DeviceToken: "test-only-device-token", Role: protocol.RoleNode, Protocol: 4,
		Approval: protocol.ApprovalPending, Caps: []string{"system"}, Commands: []string{"system.notify"}}
	if err := SaveNodeState(dir, st); err != nil {
		t.Fatal(err)
	}
	got, err := LoadNodeState(dir)
	if err != nil || !reflect.DeepEqual(got, st) {
		t.Fatalf("loaded %+v, %v; want %+v", got, err, st)
	}
	if strings.Contains(st.String(), st.DeviceToken) {
		t.Errorf("String() shows the device token")
	}
}
