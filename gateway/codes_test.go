package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// createCode creates a setup code as op and returns the result.
func createCode(t *testing.T, op *wsClient, p protocol.CodeCreateParams) protocol.CodeCreateResult {
	t.Helper()
	var r protocol.CodeCreateResult
	op.ok(protocol.MethodCodesCreate, p, &r)
	if r.Secret == "" || r.Code.ID == "" {
		t.Fatalf("create: %+v", r)
	}
	return r
}

// askWithCode has a fresh node (connected from ip, declaring commands)
// ask to pair with code.
func askWithCode(t *testing.T, h *harness, code, ip, name string, commands ...string) (identity, *wsClient, *protocol.Response) {
	t.Helper()
	id := newIdentity(t, "node-host")
	w := h.dial(from(ip))
	if res := w.connect(w.connectParams(&id, h.now(), connectOpts{role: protocol.RoleNode})); !res.OK {
		t.Fatalf("node connect: %v", res.Error)
	}
	return id, w, w.call(protocol.MethodPairRequest, protocol.PairRequestParams{Code: code,
		NodeMeta: protocol.NodeMeta{DisplayName: name, Commands: commands}})
}

// approvedByCode checks that a node's request with a code was approved and
// that its token came after the answer, and returns the token.
func approvedByCode(t *testing.T, h *harness, w *wsClient, res *protocol.Response) string {
	t.Helper()
	if !res.OK {
		t.Fatalf("request with a code: %v", res.Error)
	}
	r := decodeAs[protocol.PairRequestResult](t, res.Payload)
	if r.Status != protocol.DecisionApproved || r.Code != nil {
		t.Fatalf("request with a code: %+v", r)
	}
	ev := decodeAs[protocol.ResolvedEvent](t, w.event(protocol.EventPairResolved).Payload)
	if ev.RequestID != r.Request.RequestID || ev.Decision != protocol.DecisionApproved || ev.Token == "" || ev.Actor != "" {
		t.Fatalf("the node's resolved event: %+v", ev)
	}
	if _, ok := h.st.Verify(r.Request.NodeID, ev.Token); !ok {
		t.Fatal("the token the node got does not verify")
	}
	return ev.Token
}

// waitsWithCode checks that a request with a code was queued and the code
// refused with reason.
func waitsWithCode(t *testing.T, h *harness, res *protocol.Response, reason string) protocol.PairRequestResult {
	t.Helper()
	if !res.OK {
		t.Fatalf("request with a code: %v", res.Error)
	}
	r := decodeAs[protocol.PairRequestResult](t, res.Payload)
	if r.Status != "pending" || r.Code == nil || r.Code.Reason != reason || r.Code.Message == "" {
		t.Fatalf("want pending with %s: %+v (code %+v)", reason, r, r.Code)
	}
	if _, ok := h.st.PendingByID(r.Request.RequestID); !ok {
		t.Fatalf("request %s is not in the queue", r.Request.RequestID)
	}
	return r
}

func TestSetupCodeLifecycle(t *testing.T) {
	h := newHarness(t, viaServe, noRateLimit)
	op := h.operator()
	watcher := h.operator(protocol.ScopePairing)

	created := createCode(t, op, protocol.CodeCreateParams{Note: "rack 4"})
	// The secret is shown once; the event and lists never hold it.
	ev := watcher.event(protocol.EventCodeCreated)
	if strings.Contains(string(ev.Payload), created.Secret) || decodeAs[protocol.CodeEvent](t, ev.Payload).Code.ID != created.Code.ID {
		t.Fatalf("code.created: %s", ev.Payload)
	}
	// The setup link names this gateway (listening on 127.0.0.1) and the
	// code, in the form an OpenClaw node host reads.
	link, err := protocol.ParseSetupLink(created.SetupLink)
	if err != nil || link.URL != h.url || link.BootstrapToken != created.Secret || link.ExpiresAtMs != created.Code.ExpiresAtMs {
		t.Fatalf("setup link %q: %+v, %v (gateway %s)", created.SetupLink, link, err, h.url)
	}

	// The first node is approved by the code, the code as the actor.
	_, n1, res := askWithCode(t, h, strings.ToLower(created.Secret), "127.0.0.1", "Rack 4 Pi")
	approvedByCode(t, h, n1, res)
	for {
		r := decodeAs[protocol.ResolvedEvent](t, watcher.event(protocol.EventPairResolved).Payload)
		if r.NodeID != decodeAs[protocol.PairRequestResult](t, res.Payload).Request.NodeID {
			continue
		}
		if r.Actor != "code "+created.Code.ID {
			t.Fatalf("operators' resolved event: %+v", r)
		}
		break
	}
	used := decodeAs[protocol.CodeEvent](t, watcher.event(protocol.EventCodeUsed).Payload)
	if used.Code.Uses != 1 || used.NodeID == "" || used.RequestID == "" {
		t.Fatalf("code.used: %+v", used)
	}

	// A second node: the code is used up, its request waits for a person.
	_, _, res = askWithCode(t, h, created.Secret, "127.0.0.1", "Rack 4 Pi 2")
	waitsWithCode(t, h, res, protocol.ReasonCodeUsedUp)

	// Lists: an id and a prefix, never the secret.
	lres := op.call(protocol.MethodCodesList, protocol.CodeListParams{All: true})
	if !lres.OK || strings.Contains(string(lres.Payload), created.Secret) || strings.Contains(string(lres.Payload), strings.ReplaceAll(created.Secret, "-", "")) {
		t.Fatalf("list: %s", lres.Payload)
	}
	list := decodeAs[protocol.CodeListResult](t, lres.Payload)
	if len(list.Codes) != 1 || list.Codes[0].Uses != 1 || list.Codes[0].Prefix != protocol.CodePrefix(created.Secret) {
		t.Fatalf("list: %+v", list)
	}
	var active protocol.CodeListResult
	op.ok(protocol.MethodCodesList, nil, &active)
	if len(active.Codes) != 0 {
		t.Fatalf("a used-up code is listed as usable: %+v", active)
	}
}

func TestSetupCodeRefusals(t *testing.T) {
	clock := newFakeClock()
	h := newHarness(t, viaServe, noRateLimit, func(o *harnessOpts) { o.clock = clock })
	op := h.operator()
	pairingOnly := h.operator(protocol.ScopePairing)
	reader := h.operator(protocol.ScopeRead)

	// Who may do what.
	reader.fails(protocol.MethodCodesCreate, protocol.CodeCreateParams{}, protocol.CodeInvalidRequest, protocol.ReasonMissingScope)
	reader.fails(protocol.MethodCodesList, nil, protocol.CodeInvalidRequest, protocol.ReasonMissingScope)
	e := pairingOnly.fails(protocol.MethodCodesCreate, protocol.CodeCreateParams{Scope: protocol.CodeScope{AllowExec: true}}, protocol.CodeInvalidRequest, protocol.ReasonMissingScope)
	if e.Message != "missing scope: "+protocol.ScopeAdmin {
		t.Fatalf("exec code without admin: %q", e.Message)
	}
	createCode(t, pairingOnly, protocol.CodeCreateParams{})
	pairingOnly.fails(protocol.MethodCodesCreate, protocol.CodeCreateParams{Scope: protocol.CodeScope{CIDRs: []string{"10.0.0.300/8"}}},
		protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
	op.fails(protocol.MethodPairRequest, protocol.PairRequestParams{NodeID: "n1", Code: "K7QM-2XHF-9RTW-C4PA-M3DE"}, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)

	// Expired.
	short := createCode(t, op, protocol.CodeCreateParams{TTLMs: 60_000})
	clock.Advance(2 * time.Minute)
	_, _, res := askWithCode(t, h, short.Secret, "127.0.0.1", "Late")
	waitsWithCode(t, h, res, protocol.ReasonCodeExpired)

	// Revoked, with a reason; revoking again changes nothing.
	rev := createCode(t, op, protocol.CodeCreateParams{})
	var rr protocol.CodeRevokeResult
	op.ok(protocol.MethodCodesRevoke, protocol.CodeRevokeParams{ID: rev.Code.ID, Reason: "left on a whiteboard"}, &rr)
	if !rr.Revoked || rr.Code.RevokedAtMs == 0 {
		t.Fatalf("revoke: %+v", rr)
	}
	op.ok(protocol.MethodCodesRevoke, protocol.CodeRevokeParams{ID: rev.Code.ID}, &rr)
	if rr.Revoked {
		t.Fatal("a second revoke revoked again")
	}
	op.fails(protocol.MethodCodesRevoke, protocol.CodeRevokeParams{ID: "cnothere0"}, protocol.CodeInvalidRequest, protocol.ReasonUnknownCode)
	op.fails(protocol.MethodCodesRevoke, protocol.CodeRevokeParams{ID: rev.Code.ID, Reason: "x\x1b[2J"}, protocol.CodeInvalidRequest, protocol.ReasonInvalidParams)
	_, _, res = askWithCode(t, h, rev.Secret, "127.0.0.1", "Any")
	waitsWithCode(t, h, res, protocol.ReasonCodeRevoked)

	// Each scope condition: what is out of scope waits, what fits is approved.
	for _, c := range []struct {
		name     string
		scope    protocol.CodeScope
		ip, node string
		commands []string
		fits     bool
	}{
		{"name", protocol.CodeScope{Name: "Kiosk 1"}, "127.0.0.1", "Kiosk 2", nil, false},
		{"name", protocol.CodeScope{Name: "Kiosk 1"}, "127.0.0.1", "Kiosk 1", nil, true},
		{"name prefix", protocol.CodeScope{NamePrefix: "lab-"}, "127.0.0.1", "office-3", nil, false},
		{"name prefix", protocol.CodeScope{NamePrefix: "lab-"}, "127.0.0.1", "lab-3", nil, true},
		{"platform", protocol.CodeScope{Platforms: []string{"ios"}}, "127.0.0.1", "p", nil, false}, // the test nodes say Linux
		{"platform", protocol.CodeScope{Platforms: []string{"linux"}}, "127.0.0.1", "p", nil, true},
		{"cidr", protocol.CodeScope{CIDRs: []string{"127.0.0.2/32"}}, "127.0.0.1", "c", nil, false},
		{"cidr", protocol.CodeScope{CIDRs: []string{"127.0.0.2/32"}}, "127.0.0.2", "c", nil, true},
		{"exec guard", protocol.CodeScope{}, "127.0.0.1", "x", []string{"camera.snap", "system.run"}, false},
		{"exec allowed", protocol.CodeScope{AllowExec: true}, "127.0.0.1", "x", []string{"camera.snap", "system.run"}, true},
	} {
		code := createCode(t, op, protocol.CodeCreateParams{Scope: c.scope})
		_, n, res := askWithCode(t, h, code.Secret, c.ip, c.node, c.commands...)
		if c.fits {
			approvedByCode(t, h, n, res)
		} else {
			waitsWithCode(t, h, res, protocol.ReasonCodeOutOfScope)
		}
	}
}

// A code survives a restart of the gateway between its creation and its use.
func TestSetupCodeSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	created := createCode(t, h.operator(), protocol.CodeCreateParams{MaxUses: 2})
	h.stop()
	h2 := newHarness(t, func(o *harnessOpts) { o.stateDir = h.stateDir })
	_, n, res := askWithCode(t, h2, created.Secret, "127.0.0.1", "After restart")
	approvedByCode(t, h2, n, res)
}

// Codes the gateway does not know are limited per network: over the
// budget a request with a code is refused before the code is looked at,
// saying when to retry; another network, and requests without a code, are
// not affected.
func TestUnknownCodesAreRateLimited(t *testing.T) {
	h := newHarness(t, noRateLimit, func(o *harnessOpts) { o.cfg.FailedCodeRate = Rate{Burst: 2, Every: time.Hour} })
	good := createCode(t, h.operator(), protocol.CodeCreateParams{MaxUses: 5})
	for range 2 {
		guess, _ := protocol.NewCodeSecret()
		_, _, res := askWithCode(t, h, guess, "127.0.0.1", "guess")
		e := checkErr(t, "unknown code", res, protocol.CodeInvalidRequest, protocol.ReasonCodeInvalid)
		if e.Details.CurrentRequestID == "" || strings.Contains(e.Message, guess) {
			t.Fatalf("unknown code: %+v", e)
		}
	}
	guess, _ := protocol.NewCodeSecret()
	_, _, res := askWithCode(t, h, guess, "127.0.0.1", "guess")
	e := checkErr(t, "over the budget", res, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	if wait, ok := e.RetryAfter(); !ok || wait < 50*time.Minute || !e.Retryable || !strings.Contains(e.Message, "retry in") || !strings.Contains(e.Message, "127.0.0.1") {
		t.Fatalf("rate limited: %+v", e)
	}
	// Even a good code waits for the budget from that network (its owner
	// can still pair through the queue) …
	_, _, res = askWithCode(t, h, good.Secret, "127.0.0.1", "owner")
	checkErr(t, "good code over the budget", res, protocol.CodeUnavailable, protocol.ReasonRateLimited)
	_, w, _ := askWithCode(t, h, "", "127.0.0.1", "no code")
	w.ok(protocol.MethodPairRequest, nil, nil)
	// … and another network is not held up.
	_, n, res := askWithCode(t, h, good.Secret, "127.0.0.2", "other network")
	approvedByCode(t, h, n, res)
}

// bootstrapConnect replays the recorded 2026.9.6 node host C, with its
// auth as a `node run --pair` host sends it.
func bootstrapConnect(t *testing.T, h *harness, key ed25519.PrivateKey, auth map[string]string) (*wsClient, *protocol.Response) {
	t.Helper()
	rc := *hostConn(t, "2026.9.6", "node-host/Host C#1")
	rc.Connect = map[string]json.RawMessage{}
	for k, v := range hostConn(t, "2026.9.6", "node-host/Host C#1").Connect {
		rc.Connect[k] = v
	}
	rc.Connect["auth"] = rawJSON(auth)
	w := h.dial()
	return w, w.sendConnect(replayParams(t, &rc, "2026.9.6", key, w.nonce, h.now(), nil))
}

// An OpenClaw node host started with `openclaw node run --pair <link>`
// presents the code as auth.bootstrapToken (signed over it) and is answered
// as OpenClaw's gateway answers it.
func TestBootstrapTokenIsRedeemedAsASetupCode(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	created := createCode(t, op, protocol.CodeCreateParams{Scope: protocol.CodeScope{AllowExec: true}})
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	nodeID := protocol.DeviceID(key.Public().(ed25519.PublicKey))

	w, res := bootstrapConnect(t, h, key, map[string]string{"bootstrapToken": created.Secret})
	if !res.OK {
		t.Fatalf("connect with the code: %v", res.Error)
	}
	keys, auth := helloAuth(t, res.Payload)
	if auth == nil || auth.Method != protocol.AuthMethodBootstrapToken || auth.Role != protocol.RoleNode || auth.Scopes == nil ||
		len(auth.Scopes) != 0 || auth.DeviceToken == "" || auth.IssuedAtMs == 0 {
		t.Fatalf("hello-ok auth: %s", keys)
	}
	if _, ok := h.st.Verify(nodeID, auth.DeviceToken); !ok {
		t.Fatal("the device token does not verify")
	}
	w.c.Close(websocket.StatusNormalClosure, "")

	// From then on it presents the device token.
	_, res = bootstrapConnect(t, h, key, map[string]string{"deviceToken": auth.DeviceToken})
	if _, a := helloAuth(t, res.Payload); !res.OK || a.Method != protocol.AuthMethodDeviceToken {
		t.Fatalf("reconnect with the device token: %v %+v", res.Error, a)
	}
	// A hello-ok it never read: it comes back with the same code and is let
	// in again, with a fresh token, no use counted.
	_, res = bootstrapConnect(t, h, key, map[string]string{"bootstrapToken": created.Secret})
	_, again := helloAuth(t, res.Payload)
	if !res.OK || again.DeviceToken == "" || again.DeviceToken == auth.DeviceToken {
		t.Fatalf("the same device with its code again: %v %+v", res.Error, again)
	}
	var list protocol.CodeListResult
	op.ok(protocol.MethodCodesList, protocol.CodeListParams{All: true}, &list)
	if list.Codes[0].Uses != 1 {
		t.Fatalf("uses %d after a repeat, want 1", list.Codes[0].Uses)
	}

	// Another device with the used-up code: its request waits, and the
	// host is told to wait and retry, as OpenClaw tells it.
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	w, res = bootstrapConnect(t, h, other, map[string]string{"bootstrapToken": created.Secret})
	e := checkErr(t, "used-up code at connect", res, protocol.CodeNotPaired, protocol.DetailPairingRequired)
	d := e.Details.RefusalDetails
	if d == nil || d.RequestID == "" || d.Reason != "not-paired" || d.RecommendedNextStep != protocol.NextStepWaitThenRetry ||
		!d.Retryable || d.PauseReconnect == nil || *d.PauseReconnect || !strings.Contains(e.Message, "used") {
		t.Fatalf("refusal: %+v %+v", e, d)
	}
	if ce := w.closeError(); ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("close %d", ce.Code)
	}
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: d.RequestID}, nil)
	// Its next retry, with the same code, is let in with the token.
	_, res = bootstrapConnect(t, h, other, map[string]string{"bootstrapToken": created.Secret})
	if _, a := helloAuth(t, res.Payload); !res.OK || a.DeviceToken == "" {
		t.Fatalf("retry after approval: %v %+v", res.Error, a)
	}

	// A code the gateway does not know: AUTH_BOOTSTRAP_TOKEN_INVALID, which
	// the host prints and exits on.
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	guess, _ := protocol.NewCodeSecret()
	w, res = bootstrapConnect(t, h, stranger, map[string]string{"bootstrapToken": guess})
	e = checkErr(t, "unknown code at connect", res, protocol.CodeInvalidRequest, protocol.DetailAuthBootstrapTokenInvalid)
	if strings.Contains(e.Message, guess) || e.Details.RefusalDetails == nil || e.Details.RefusalDetails.AuthReason != "bootstrap_token_invalid" {
		t.Fatalf("refusal: %+v", e)
	}
	if ce := w.closeError(); ce.Code != websocket.StatusPolicyViolation {
		t.Fatalf("close %d", ce.Code)
	}
}

// A code is a secret: whatever happens to it, the log never holds it.
func TestSetupCodesNeverReachTheLog(t *testing.T) {
	var logs logBuffer
	h := newHarness(t, noRateLimit, func(o *harnessOpts) { o.cfg.Logger = logs.logger() })
	op := h.operator()
	created := createCode(t, op, protocol.CodeCreateParams{MaxUses: 1})
	_, n, res := askWithCode(t, h, created.Secret, "127.0.0.1", "one")
	approvedByCode(t, h, n, res)
	askWithCode(t, h, created.Secret, "127.0.0.1", "two") // used up
	guess, _ := protocol.NewCodeSecret()
	askWithCode(t, h, guess, "127.0.0.1", "three")
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	bootstrapConnect(t, h, key, map[string]string{"bootstrapToken": created.Secret})
	bootstrapConnect(t, h, key, map[string]string{"bootstrapToken": guess})
	op.ok(protocol.MethodCodesRevoke, protocol.CodeRevokeParams{ID: created.Code.ID}, nil)
	h.stop()
	out := logs.String()
	if !strings.Contains(out, created.Code.ID) {
		t.Fatalf("the log does not name the code's id, so this test would see nothing:\n%s", out)
	}
	for _, secret := range []string{created.Secret, guess} {
		for _, form := range []string{secret, strings.ReplaceAll(secret, "-", ""), strings.ToLower(secret), secret[5:14]} {
			if strings.Contains(out, form) {
				t.Fatalf("the log holds a code (%q):\n%s", form, out)
			}
		}
	}
}

// Decisions carry the operator's reason to operators, never to the node.
func TestDecisionsCarryTheirReason(t *testing.T) {
	h := newHarness(t, noRateLimit)
	op := h.operator()
	watcher := h.operator(protocol.ScopePairing)

	_, n, req := asks(t, h, false)
	op.ok(protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: req.RequestID, Reason: "known laptop"}, nil)
	if ev := decodeAs[protocol.ResolvedEvent](t, n.event(protocol.EventPairResolved).Payload); ev.Reason != "" || ev.Token == "" {
		t.Fatalf("the node's copy: %+v", ev)
	}
	for {
		ev := decodeAs[protocol.ResolvedEvent](t, watcher.event(protocol.EventPairResolved).Payload)
		if ev.RequestID == req.RequestID {
			if ev.Reason != "known laptop" {
				t.Fatalf("operators' copy: %+v", ev)
			}
			break
		}
	}

	_, _, req = asks(t, h, false)
	op.ok(protocol.MethodPairReject, protocol.RequestIDParams{RequestID: req.RequestID, Reason: "not ours"}, nil)
	for {
		ev := decodeAs[protocol.ResolvedEvent](t, watcher.event(protocol.EventPairResolved).Payload)
		if ev.RequestID == req.RequestID {
			if ev.Reason != "not ours" || ev.Decision != protocol.DecisionRejected {
				t.Fatalf("operators' copy: %+v", ev)
			}
			break
		}
	}

	id, _, req := asks(t, h, false)
	var b protocol.BlockResult
	op.ok(protocol.MethodBlockAdd, protocol.BlockParams{NodeID: id.nodeID(), Reason: "scanner"}, &b)
	if b.Node.Reason != "scanner" || b.RejectedRequestID != req.RequestID {
		t.Fatalf("block: %+v", b)
	}
	if ev := decodeAs[protocol.BlockEvent](t, watcher.event(protocol.EventBlockAdded).Payload); ev.Node.Reason != "scanner" {
		t.Fatalf("block.added: %+v", ev)
	}
	var bl protocol.BlockListResult
	op.ok(protocol.MethodBlockList, nil, &bl)
	if len(bl.Blocked) != 1 || bl.Blocked[0].Reason != "scanner" {
		t.Fatalf("block list: %+v", bl)
	}

	for _, m := range []string{protocol.MethodPairApprove, protocol.MethodPairReject} {
		refusedField(t, m+" reason", op.call(m, protocol.RequestIDParams{RequestID: "x", Reason: "a\u202eb"}), "reason")
	}
	refusedField(t, "block reason", op.call(protocol.MethodBlockAdd, protocol.BlockParams{NodeID: "n", Reason: strings.Repeat("a", protocol.MaxReasonLen+1)}), "reason")
}
