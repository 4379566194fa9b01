package client

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Tests against the replay double (replay_test.go), one recording per
// OpenClaw release: 2026.4.12 (protocol 3), 2026.7.35 (protocol 4, node
// pairing) and 2026.9.6 (protocol 4, device pairing).

var openclawVersions = []string{"2026.4.12", "2026.7.35", "2026.9.6"}

func sharedToken(version string) string { return "test-only-shared-token-" + version }

func sharedPassword(version string) string { return "test-only-password-" + version }

// dialReplay connects an operator with a device identity and the shared
// token to a replay of label.
func dialReplay(t *testing.T, version, scenario string, labels ...string) (*Client, *replayGateway) {
	t.Helper()
	g := newReplay(t, version, scenario, labels...)
	c, err := Dial(testCtx(t), Config{URL: g.URL, Token: sharedToken(version), Identity: mustIdentity(t)})
	if err != nil {
		t.Fatalf("%s: dial: %v", version, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, g
}

// recordedResult decodes the payload of the recorded response to the n-th
// (from 0) request of method on label.
func recordedResult(t *testing.T, r *recording, label, method string, n int, v any) {
	t.Helper()
	r.Result(t, label, method, n, v)
}

func TestOpenClawNegotiation(t *testing.T) {
	for _, v := range openclawVersions {
		t.Run(v, func(t *testing.T) {
			c, g := dialReplay(t, v, "handshake", "op-device-3to4")
			h := c.Hello()
			wantProto, wantModel := 4, ModelNodePairing
			switch v {
			case "2026.4.12":
				wantProto = 3
			case "2026.9.6":
				wantModel = ModelDevicePairing
			}
			if h.Protocol != wantProto || h.Server.Version != v {
				t.Errorf("hello protocol %d version %q, want %d %q", h.Protocol, h.Server.Version, wantProto, v)
			}
			if c.Model() != wantModel {
				t.Errorf("model %v, want %v", c.Model(), wantModel)
			}
			p := g.Sent()[0]
			if p.MinProtocol != 3 || p.MaxProtocol != 4 || p.Client.ID != "cli" || p.Client.Mode != "cli" || p.Client.DisplayName == "" {
				t.Errorf("connect offered %d..%d as %s/%s %q", p.MinProtocol, p.MaxProtocol, p.Client.ID, p.Client.Mode, p.Client.DisplayName)
			}
			if h.Auth == nil || h.Auth.DeviceToken == "" || !slices.Equal(c.GrantedScopes(), h.Auth.Scopes) {
				t.Errorf("auth = %+v, granted %v: want the gateway's scopes and its device token", h.Auth, c.GrantedScopes())
			}
		})
	}
}

// The gateway's scopes are the truth: 4.12 clears the scopes of an operator
// without a device.
func TestOpenClawGrantedScopesAreTheGatewaysOwn(t *testing.T) {
	g := newReplay(t, "2026.4.12", "handshake", "op-nodevice-3to4")
	c, err := Dial(testCtx(t), Config{URL: g.URL, Token: sharedToken("2026.4.12")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.GrantedScopes(); len(got) != 0 {
		t.Errorf("granted %v, want none (what hello-ok says)", got)
	}
}

func TestOpenClawProtocolMismatch(t *testing.T) {
	for _, v := range []string{"2026.7.35", "2026.9.6"} {
		t.Run(v, func(t *testing.T) {
			// The recorded answer to an offer of 3..3: the client reads
			// the gateway's side from expectedProtocol.
			g := newReplay(t, v, "handshake", "op-device-3to3")
			_, err := Dial(testCtx(t), Config{URL: g.URL, Token: sharedToken(v), Identity: mustIdentity(t)})
			var pm *ProtocolMismatchError
			if !errors.As(err, &pm) || pm.GatewayMin != 4 || pm.GatewayMax != 4 {
				t.Fatalf("err = %v, want a mismatch saying the gateway speaks 4", err)
			}
			if !strings.Contains(err.Error(), "speaks protocol 4") || !strings.Contains(err.Error(), "protocols 3 to 4") {
				t.Errorf("message %q does not name both sides", err)
			}
			if !terminal(err) || len(g.Sent()) != 1 {
				t.Errorf("a mismatch must not be retried (%d connects)", len(g.Sent()))
			}
		})
	}
}

// pairdeck's own gateway names its version in the message only.
func TestPairdeckProtocolMismatchIsParsed(t *testing.T) {
	gw := newFakeGateway(t)
	gw.answer = func(p protocol.ConnectParams) (any, *protocol.Error) {
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams,
			"protocol mismatch: this gateway speaks protocol %d, the client offered %d..%d", 5, p.MinProtocol, p.MaxProtocol)
	}
	_, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	var pm *ProtocolMismatchError
	if !errors.As(err, &pm) || pm.GatewayMin != 5 || !strings.Contains(err.Error(), "protocols 3 to 4") {
		t.Fatalf("err = %v, want the gateway's 5 and the client's 3 to 4", err)
	}
}

func TestOpenClawAuthRefusals(t *testing.T) {
	cases := []struct {
		version, scenario, label string
		cfg                      func(v string) Config
		want                     string
	}{
		{"2026.9.6", "handshake", "op-wrong-token", func(v string) Config { return Config{Token: "test-only-wrong-token"} }, "OPENCLAW_GATEWAY_TOKEN"},
		{"2026.7.35", "handshake", "op-no-token", func(v string) Config { return Config{} }, "--token"},
		{"2026.7.35", "auth-password", "pw-token-only", func(v string) Config { return Config{Token: sharedToken(v)} }, "--password or OPENCLAW_GATEWAY_PASSWORD"},
		{"2026.9.6", "auth-password", "pw-wrong", func(v string) Config { return Config{Password: "test-only-wrong-password"} }, "AUTH_PASSWORD_MISMATCH"},
	}
	for _, tc := range cases {
		t.Run(tc.version+"/"+tc.label, func(t *testing.T) {
			g := newReplay(t, tc.version, tc.scenario, tc.label)
			cfg := tc.cfg(tc.version)
			cfg.URL, cfg.Identity = g.URL, mustIdentity(t)
			_, err := Dial(testCtx(t), cfg)
			var ae *AuthError
			if !errors.As(err, &ae) || !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want an AuthError mentioning %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "operator token") {
				t.Errorf("err = %v still blames the operator token", err)
			}
		})
	}
}

func TestOpenClawPasswordAuth(t *testing.T) {
	for _, v := range openclawVersions {
		t.Run(v, func(t *testing.T) {
			g := newReplay(t, v, "auth-password", "pw-ok")
			c, err := Dial(testCtx(t), Config{URL: g.URL, Password: sharedPassword(v), Identity: mustIdentity(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if a := g.Sent()[0].Auth; a == nil || a.Password != sharedPassword(v) || a.Token != "" {
				t.Errorf("auth sent = %+v, want the password alone", a)
			}
			if _, err := c.List(testCtx(t)); err != nil {
				t.Errorf("list: %v", err)
			}
		})
	}
}

func TestOpenClawRateLimitIsRetriedThenReported(t *testing.T) {
	v := "2026.7.35"
	g := newReplay(t, v, "auth-password", "pw-guess-4")
	start := time.Now()
	_, err := Dial(testCtx(t), Config{URL: g.URL, Password: "test-only-wrong-password", Identity: mustIdentity(t),
		Backoff: fastBackoff, RetryRefusalsFor: 300 * time.Millisecond})
	var rl *RateLimitedError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "rate-limiting") {
		t.Fatalf("err = %v, want a RateLimitedError that says so", err)
	}
	if strings.Contains(err.Error(), "token this node does not have") {
		t.Errorf("err = %v", err)
	}
	if n := len(g.Sent()); n < 2 {
		t.Errorf("%d connects, want retries within RetryRefusalsFor", n)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("gave up after %s", time.Since(start))
	}
}

// 9.6 names the lockout it applies (retryAfterMs 60 s): Dial does not wait
// longer than RetryRefusalsFor, and says when to try again.
func TestOpenClawRateLimitHintIsHonoured(t *testing.T) {
	v := "2026.9.6"
	g := newReplay(t, v, "auth-password", "pw-guess-4")
	_, err := Dial(testCtx(t), Config{URL: g.URL, Password: "test-only-wrong-password", Identity: mustIdentity(t), Backoff: fastBackoff})
	var rl *RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < 59*time.Second || !strings.Contains(err.Error(), "try again in 1m0s") {
		t.Fatalf("err = %v, want the gateway's hint", err)
	}
	if n := len(g.Sent()); n != 1 {
		t.Errorf("%d connects: a wait longer than RetryRefusalsFor is not started", n)
	}
}

func TestOpenClawRateLimitClearsAndDialSucceeds(t *testing.T) {
	v := "2026.7.35"
	g := newReplay(t, v, "auth-password", "pw-guess-4", "pw-ok")
	g.CheckConnect = false // the password is the right one for pw-ok
	c, err := Dial(testCtx(t), Config{URL: g.URL, Password: sharedPassword(v), Identity: mustIdentity(t), Backoff: fastBackoff})
	if err != nil {
		t.Fatalf("dial: %v, want success after the rate limit", err)
	}
	c.Close()
	if n := len(g.Sent()); n != 2 {
		t.Errorf("%d connects, want 2", n)
	}
}

// 9.6 answers UNAVAILABLE with retryAfterMs 500 while it starts.
func TestOpenClawStartupIsWaitedFor(t *testing.T) {
	r := loadRecording(t, "2026.9.6", "startup")
	var labels []string
	for _, l := range r.Lines {
		if l.Conn != "" && !slices.Contains(labels, l.Conn) {
			labels = append(labels, l.Conn)
		}
	}
	if len(labels) < 3 {
		t.Fatalf("startup recording has %v", labels)
	}
	g := newReplay(t, "2026.9.6", "startup", labels...)
	start := time.Now()
	c, err := Dial(testCtx(t), Config{URL: g.URL, Token: sharedToken("2026.9.6"), Identity: mustIdentity(t), Backoff: fastBackoff})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()
	if n := len(g.Sent()); n != len(labels) {
		t.Errorf("%d connects, want %d", n, len(labels))
	}
	// Two refusals asked for 500 ms each; the fast backoff alone would
	// have taken a few ms.
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Errorf("retried after %s in all, want the gateway's 500 ms hint honoured", took)
	}
}

func TestOpenClawPairingRequired(t *testing.T) {
	cases := []struct{ label, reason, text string }{
		{"E-new", protocol.PairingReasonNotPaired, "not paired"},
		{"F-scope-upgrade", protocol.PairingReasonScopeUpgrade, "more scopes"},
		{"F-metadata-upgrade", protocol.PairingReasonMetadataUpgrade, "platform"},
	}
	for _, v := range openclawVersions {
		for _, tc := range cases {
			t.Run(v+"/"+tc.label, func(t *testing.T) {
				g := newReplay(t, v, "device-pairing", tc.label)
				_, err := Dial(testCtx(t), Config{URL: g.URL, Token: sharedToken(v), Identity: mustIdentity(t)})
				var pr *PairingRequiredError
				if !errors.As(err, &pr) || !errors.Is(err, ErrPairingRequired) {
					t.Fatalf("err = %v, want PairingRequiredError", err)
				}
				if pr.RequestID == "" || pr.Reason != tc.reason {
					t.Errorf("request %q reason %q, want an id and %q", pr.RequestID, pr.Reason, tc.reason)
				}
				msg := err.Error()
				if !strings.Contains(msg, "openclaw devices approve "+pr.RequestID) || !strings.Contains(msg, tc.text) {
					t.Errorf("message %q: want what to do and why", msg)
				}
				if strings.Contains(msg, "operator token") || !terminal(err) {
					t.Errorf("message %q: not a token problem, and not to be retried blindly", msg)
				}
			})
		}
	}
}
