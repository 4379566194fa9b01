package client

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

const testCode = "K7QM-2XHF-9RTW-C4PA-M3DE"

// pairdeckNodeGateway answers node.pair.request with answer (given the
// params it got) and then sends the node the events of after, in order,
// with consecutive seq numbers. Requests are recorded.
func pairdeckNodeGateway(t *testing.T, answer func(p protocol.PairRequestParams) (any, *protocol.Error), after func(p protocol.PairRequestParams) []protocol.ResolvedEvent) (*fakeGateway, func() []protocol.PairRequestParams) {
	f := newFakeGateway(t)
	var mu sync.Mutex
	var got []protocol.PairRequestParams
	f.serve = func(ctx context.Context, s *fakeSession) {
		seq := uint64(0)
		for {
			req, err := s.read(ctx)
			if err != nil {
				return
			}
			if req.Method != protocol.MethodPairRequest {
				s.send(protocol.OKResponse(req.ID, struct{}{}))
				continue
			}
			var p protocol.PairRequestParams
			_ = json.Unmarshal(req.Params, &p)
			mu.Lock()
			got = append(got, p)
			mu.Unlock()
			res, perr := answer(p)
			var evs []protocol.ResolvedEvent
			if after != nil {
				evs = after(p)
			}
			// pairdeck's gateway emits the decision a code made while
			// handling the request: the event may come before the result.
			for _, ev := range evs {
				seq++
				s.event(protocol.EventPairResolved, ev, seq)
			}
			if perr != nil {
				s.send(protocol.ErrorResponse(req.ID, perr))
			} else {
				s.send(protocol.OKResponse(req.ID, res))
			}
		}
	}
	return f, func() []protocol.PairRequestParams {
		mu.Lock()
		defer mu.Unlock()
		return append([]protocol.PairRequestParams(nil), got...)
	}
}

func TestPairWithACodeOnPairdeck(t *testing.T) {
	t.Run("approved at once", func(t *testing.T) {
		f, got := pairdeckNodeGateway(t, func(p protocol.PairRequestParams) (any, *protocol.Error) {
			return protocol.PairRequestResult{Status: protocol.DecisionApproved, Created: true,
				Request: protocol.PendingRequest{RequestID: "r1", NodeID: p.NodeID}}, nil
		}, func(p protocol.PairRequestParams) []protocol.ResolvedEvent {
			return []protocol.ResolvedEvent{{RequestID: "r1", NodeID: p.NodeID, Decision: protocol.DecisionApproved, Token: "node-token-1", Actor: "code c12345678"}}
		})
		var pendings []PairPending
		out, err := Pair(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff},
			protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "rack-1"}, Code: testCode},
			func(p PairPending) { pendings = append(pendings, p) })
		if err != nil {
			t.Fatal(err)
		}
		if !out.ByCode || out.Token != "node-token-1" || out.State.Token != "node-token-1" || out.Decision != protocol.DecisionApproved {
			t.Errorf("outcome %+v, want approved by the code with its token", out)
		}
		if len(pendings) != 0 {
			t.Errorf("told the user it waits for an operator: %+v", pendings)
		}
		if reqs := got(); len(reqs) != 1 || reqs[0].Code != testCode || reqs[0].DisplayName != "rack-1" {
			t.Errorf("node.pair.request params %+v, want the code", reqs)
		}
		if c := f.connects(); len(c) != 1 || c[0].Auth != nil {
			t.Errorf("connects %+v: want one without credentials (the code goes in the request)", c)
		}
	})

	t.Run("refused, waits for a person", func(t *testing.T) {
		f, _ := pairdeckNodeGateway(t, func(p protocol.PairRequestParams) (any, *protocol.Error) {
			return protocol.PairRequestResult{Status: "pending", Created: true,
				Request: protocol.PendingRequest{RequestID: "r2", NodeID: p.NodeID, ExpiresAtMs: 1 << 50},
				Code:    &protocol.CodeRefusal{Reason: protocol.ReasonCodeUsedUp, Message: "this code was already used 1 of 1 times"}}, nil
		}, nil)
		pending := make(chan PairPending, 4)
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan struct{})
		var out PairOutcome
		var err error
		go func() {
			defer close(done)
			out, err = Pair(ctx, Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff},
				protocol.PairRequestParams{Code: testCode}, func(p PairPending) { pending <- p })
		}()
		var p PairPending
		select {
		case p = <-pending:
		case <-ctx.Done():
			t.Fatal("no pending notice")
		}
		if p.RequestID != "r2" || p.Code == nil || p.Code.Reason != protocol.ReasonCodeUsedUp || !strings.Contains(p.Code.Message, "already used") {
			t.Errorf("pending %+v, want the code's refusal", p)
		}
		cancel() // the user gives up
		<-done
		if !errors.Is(err, context.Canceled) || out.ByCode || out.Decision != "" {
			t.Errorf("Pair = %+v, %v: want it still waiting for a person when stopped", out, err)
		}
	})

	t.Run("unknown code, queued all the same", func(t *testing.T) {
		f, _ := pairdeckNodeGateway(t, func(protocol.PairRequestParams) (any, *protocol.Error) {
			e := protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonCodeInvalid, "this gateway has no such setup code; request r9 waits for an operator instead")
			e.Details.CurrentRequestID = "r9"
			return nil, e
		}, nil)
		pending := make(chan PairPending, 4)
		ctx, cancel := context.WithCancel(testCtx(t))
		done := make(chan error, 1)
		go func() {
			_, err := Pair(ctx, Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff}, protocol.PairRequestParams{Code: testCode},
				func(p PairPending) { pending <- p })
			done <- err
		}()
		select {
		case p := <-pending:
			if p.RequestID != "r9" || p.Code == nil || p.Code.Reason != protocol.ReasonCodeInvalid || !strings.Contains(p.Code.Message, "no such setup code") {
				t.Errorf("pending %+v", p)
			}
		case err := <-done:
			t.Fatalf("Pair ended (%v) although the request waits", err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Pair = %v, want it still waiting when stopped", err)
		}
	})

	t.Run("unknown code", func(t *testing.T) {
		f, _ := pairdeckNodeGateway(t, func(protocol.PairRequestParams) (any, *protocol.Error) {
			return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonCodeInvalid, "no such setup code")
		}, nil)
		_, err := Pair(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff}, protocol.PairRequestParams{Code: testCode})
		var cre *CodeRefusedError
		if !errors.As(err, &cre) || cre.Reason != protocol.ReasonCodeInvalid || !strings.Contains(err.Error(), "no such setup code") ||
			!strings.Contains(err.Error(), "codes create") {
			t.Errorf("err = %v, want the code's refusal and what to do", err)
		}
	})
}

// openClawBootstrapGateway behaves as OpenClaw 2026.9.6 does towards a
// node host with a setup link, in the frames recorded for
// setupcodes-research.md: no credential → AUTH_TOKEN_MISSING; the code in
// auth.bootstrapToken → refuse, or hello-ok with the device token.
func openClawBootstrapGateway(t *testing.T, onCode func(n int) json.RawMessage) *fakeGateway {
	f := newFakeGateway(t)
	var mu sync.Mutex
	codeConnects := 0
	f.refuseRaw = func(p protocol.ConnectParams) json.RawMessage {
		if p.Auth == nil || p.Auth.BootstrapToken == "" {
			return json.RawMessage(`{"code":"INVALID_REQUEST","message":"unauthorized: gateway token missing (use this gateway's gateway.auth.token or pair the device)","details":{"code":"AUTH_TOKEN_MISSING","authReason":"token_missing","canRetryWithDeviceToken":false,"recommendedNextStep":"update_auth_configuration"}}`)
		}
		mu.Lock()
		codeConnects++
		n := codeConnects
		mu.Unlock()
		return onCode(n)
	}
	f.answer = func(p protocol.ConnectParams) (any, *protocol.Error) {
		return map[string]any{"type": "hello-ok", "protocol": 3,
			"server":   map[string]any{"version": "2026.9.6", "connId": "c1"},
			"features": map[string]any{"methods": []string{"node.event", "node.pair.list", "device.pair.list"}, "events": []string{}},
			"snapshot": map[string]any{},
			"auth":     map[string]any{"method": "bootstrap-token", "role": "node", "scopes": []string{}, "deviceToken": "device-token-9", "issuedAtMs": 1},
			"policy":   map[string]any{"maxPayload": 16384, "maxBufferedBytes": 1048576, "tickIntervalMs": 30000}}, nil
	}
	return f
}

func TestPairWithACodeOnOpenClaw(t *testing.T) {
	t.Run("approved at connect", func(t *testing.T) {
		f := openClawBootstrapGateway(t, func(int) json.RawMessage { return nil })
		out, err := Pair(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff, Token: "shared-token-not-to-send"},
			protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: "rack-2"}, Code: testCode})
		if err != nil {
			t.Fatal(err)
		}
		c := f.connects()
		if len(c) != 2 || c[1].Auth == nil || *c[1].Auth != (protocol.ConnectAuth{BootstrapToken: testCode}) || c[1].Role != protocol.RoleNode {
			t.Fatalf("connects %+v: want the second to carry only auth.bootstrapToken (signed over; the fake checks)", c)
		}
		if !out.ByCode || out.CommandsPending || out.State.DeviceToken != "device-token-9" || out.State.Approval != protocol.ApprovalApproved ||
			out.State.Token != "" || out.Decision != protocol.DecisionApproved {
			t.Errorf("outcome %+v", out)
		}
	})

	t.Run("code refused", func(t *testing.T) {
		f := openClawBootstrapGateway(t, func(int) json.RawMessage {
			return json.RawMessage(`{"code":"INVALID_REQUEST","message":"unauthorized: setup code invalid, expired, revoked, or already used (create a new code; review ` + "`openclaw devices list`" + `)","details":{"code":"AUTH_BOOTSTRAP_TOKEN_INVALID","authReason":"bootstrap_token_invalid","canRetryWithDeviceToken":false,"recommendedNextStep":"review_auth_configuration"}}`)
		})
		_, err := Pair(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff}, protocol.PairRequestParams{Code: testCode})
		if !errors.Is(err, ErrCodeRefused) || !strings.Contains(err.Error(), "already used") || strings.Contains(err.Error(), "unauthorized:") ||
			strings.Contains(err.Error(), "pairdeck codes create") {
			t.Errorf("err = %v, want the gateway's reason for refusing the code", err)
		}
	})

	t.Run("waits for a person", func(t *testing.T) {
		f := openClawBootstrapGateway(t, func(n int) json.RawMessage {
			if n > 1 {
				return nil // approved by then
			}
			return json.RawMessage(`{"code":"NOT_PAIRED","message":"pairing required: device is not approved yet","details":{"code":"PAIRING_REQUIRED","reason":"not-paired","requestId":"fc0dcb34-1","recommendedNextStep":"wait_then_retry","retryable":true,"pauseReconnect":false,"requestedRole":"node"}}`)
		})
		var pendings []PairPending
		out, err := Pair(testCtx(t), Config{URL: f.URL, Identity: mustIdentity(t), Backoff: fastBackoff}, protocol.PairRequestParams{Code: testCode},
			func(p PairPending) { pendings = append(pendings, p) })
		if err != nil {
			t.Fatal(err)
		}
		if len(pendings) == 0 || pendings[0].Code == nil || !strings.Contains(pendings[0].Code.Message, "did not approve") {
			t.Errorf("pendings %+v, want to be told the code approved nothing", pendings)
		}
		c := f.connects()
		if len(c) != 3 || c[2].Auth == nil || c[2].Auth.BootstrapToken != testCode {
			t.Errorf("connects %+v: want the retry to carry the same code", c)
		}
		if out.ByCode || !out.CommandsPending || out.State.DeviceToken != "device-token-9" {
			t.Errorf("outcome %+v", out)
		}
	})
}
