package client

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// Setup codes and reasons are pairdeck's: against OpenClaw's gateways the
// calls are refused in one line and never sent.
func TestOpenClawHasNoCodesOrReasons(t *testing.T) {
	for _, v := range openclawVersions {
		t.Run(v, func(t *testing.T) {
			c, g := dialReplay(t, v, "handshake", "op-device-3to4")
			ctx := testCtx(t)
			var ue *UnsupportedError
			if err := c.Supports(CapCodes); !errors.As(err, &ue) || !strings.Contains(err.Error(), "does not support setup codes") {
				t.Errorf("Supports(CapCodes) = %v", err)
			}
			if _, err := c.CreateCode(ctx, protocol.CodeCreateParams{}); !errors.As(err, &ue) || ue.Capability != CapCodes ||
				!strings.Contains(err.Error(), "does not support setup codes") || strings.Contains(err.Error(), "\n") {
				t.Errorf("CreateCode: %v", err)
			}
			if _, err := c.ListCodes(ctx, true); !errors.Is(err, ErrUnsupported) {
				t.Errorf("ListCodes: %v", err)
			}
			if _, err := c.RevokeCode(ctx, protocol.CodeRevokeParams{ID: "cabcdefgh"}); !errors.Is(err, ErrUnsupported) {
				t.Errorf("RevokeCode: %v", err)
			}
			for _, m := range []string{protocol.MethodCodesCreate, protocol.MethodCodesList, protocol.MethodCodesRevoke} {
				if slices.Contains(g.Answered(), m) {
					t.Errorf("%s was sent", m)
				}
			}
			// A decision with a reason the gateway cannot keep is not made.
			_, err := c.ApproveWith(ctx, protocol.RequestIDParams{RequestID: "r1", Reason: "known host"})
			if !errors.As(err, &ue) || ue.Capability != CapReasons || !strings.Contains(err.Error(), "keeps no reason") {
				t.Errorf("ApproveWith a reason: %v", err)
			}
			if _, err := c.RejectWith(ctx, protocol.RequestIDParams{RequestID: "r1", Reason: "unknown"}); !errors.Is(err, ErrUnsupported) {
				t.Errorf("RejectWith a reason: %v", err)
			}
			for _, m := range g.Answered() {
				if strings.Contains(m, "approve") || strings.Contains(m, "reject") {
					t.Errorf("%s was sent", m)
				}
			}
		})
	}
}

// The calls reach a gateway that offers them with exactly the params given,
// and reasons travel in approve, reject and block.
func TestCodeCallsAndReasonsOnTheWire(t *testing.T) {
	f := newFakeGateway(t)
	f.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		h := helloOK(0)
		h.Features.Methods = append(h.Features.Methods, protocol.MethodCodesCreate, protocol.MethodCodesList, protocol.MethodCodesRevoke)
		return h, nil
	}
	var mu sync.Mutex
	got := map[string]json.RawMessage{}
	f.serve = func(ctx context.Context, s *fakeSession) {
		s.serveRequests(ctx, func(req protocol.Request) (any, *protocol.Error) {
			mu.Lock()
			got[req.Method] = req.Params
			mu.Unlock()
			switch req.Method {
			case protocol.MethodCodesCreate:
				return protocol.CodeCreateResult{Code: protocol.SetupCode{ID: "c12345678", Prefix: "K7QM", MaxUses: 1}, Secret: "K7QM-2XHF-9RTW-C4PA-M3DE"}, nil
			case protocol.MethodCodesList:
				return map[string]any{"codes": nil}, nil
			case protocol.MethodCodesRevoke:
				return protocol.CodeRevokeResult{Code: protocol.SetupCode{ID: "c12345678"}, Revoked: true}, nil
			}
			return nil, nil
		})
	}
	c, err := Dial(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testCtx(t)
	created, err := c.CreateCode(ctx, protocol.CodeCreateParams{TTLMs: 60000, MaxUses: 2, Scope: protocol.CodeScope{NamePrefix: "rack-", AllowExec: true}, Note: "rack 4"})
	if err != nil || created.Secret == "" || created.Code.ID != "c12345678" {
		t.Fatalf("CreateCode = %+v, %v", created, err)
	}
	codes, err := c.ListCodes(ctx, true)
	if err != nil || codes == nil || len(codes) != 0 {
		t.Fatalf("ListCodes = %#v, %v: want an empty, non-nil list", codes, err)
	}
	if r, err := c.RevokeCode(ctx, protocol.CodeRevokeParams{ID: "c12345678", Reason: "lost"}); err != nil || !r.Revoked {
		t.Fatalf("RevokeCode = %+v, %v", r, err)
	}
	if _, err := c.ApproveWith(ctx, protocol.RequestIDParams{RequestID: "r1", Reason: "known host"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RejectWith(ctx, protocol.RequestIDParams{RequestID: "r2", Reason: "not ours"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.BlockWith(ctx, protocol.BlockParams{NodeID: "n3", Reason: "scanner"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]string{
		protocol.MethodCodesCreate: `{"ttlMs":60000,"maxUses":2,"scope":{"namePrefix":"rack-","allowExec":true},"note":"rack 4"}`,
		protocol.MethodCodesList:   `{"all":true}`,
		protocol.MethodCodesRevoke: `{"id":"c12345678","reason":"lost"}`,
		protocol.MethodPairApprove: `{"requestId":"r1","reason":"known host"}`,
		protocol.MethodPairReject:  `{"requestId":"r2","reason":"not ours"}`,
		protocol.MethodBlockAdd:    `{"nodeId":"n3","reason":"scanner"}`,
	}
	for m, w := range want {
		if string(got[m]) != w {
			t.Errorf("%s params %s, want %s", m, got[m], w)
		}
	}

	// A reason the gateway would refuse is refused here, and nothing sent.
	delete(got, protocol.MethodPairReject)
	mu.Unlock()
	_, err = c.RejectWith(ctx, protocol.RequestIDParams{RequestID: "r4", Reason: "bad\x1b[2Jreason"})
	_, err2 := c.RejectWith(ctx, protocol.RequestIDParams{RequestID: "r4", Reason: strings.Repeat("x", protocol.MaxReasonLen+1)})
	mu.Lock()
	var fe *protocol.FieldError
	if !errors.As(err, &fe) || !errors.As(err2, &fe) || fe.Field != "reason" {
		t.Errorf("bad reasons: %v / %v, want field errors naming reason", err, err2)
	}
	if got[protocol.MethodPairReject] != nil {
		t.Errorf("a refused reason was sent")
	}
}

// A pairdeck gateway without setup codes is an older release: said so.
func TestOlderPairdeckGatewayHasNoCodes(t *testing.T) {
	f := newFakeGateway(t)
	f.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		h := helloOK(0)
		h.Server.Version = "0.0.9"
		h.Features.Methods = slices.DeleteFunc(h.Features.Methods, func(m string) bool { return strings.HasPrefix(m, "pairdeck.codes.") })
		return h, nil
	}
	c, err := Dial(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.CreateCode(testCtx(t), protocol.CodeCreateParams{})
	if !errors.Is(err, ErrUnsupported) || err.Error() != "this pairdeck gateway (version 0.0.9) predates setup codes: upgrade it" {
		t.Errorf("CreateCode on an older pairdeck gateway: %v", err)
	}
}
