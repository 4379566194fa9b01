package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestDialWithoutGatewaySaysSo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	_, err = Dial(testCtx(t), Config{URL: url, Token: "t"})
	if !errors.Is(err, ErrNoGateway) {
		t.Fatalf("err = %v, want ErrNoGateway", err)
	}
	want := fmt.Sprintf("no gateway at %s: is `pairdeck serve` running?", url)
	if err.Error() != want {
		t.Fatalf("message:\n got %q\nwant %q", err.Error(), want)
	}
}

func TestDialRejectsNonWebSocketURL(t *testing.T) {
	_, err := Dial(testCtx(t), Config{URL: "http://127.0.0.1:18789"})
	if err == nil || !strings.Contains(err.Error(), "ws://") {
		t.Fatalf("err = %v, want a hint about ws://", err)
	}
}

func TestHandshakeSendsSignedConnect(t *testing.T) {
	gw := newFakeGateway(t)
	id := mustIdentity(t)
	// A local clock a year off: signedAt must be the challenge's ts, which
	// the gateway checks against its own clock (the fake: within 2 min).
	skewed := func() time.Time { return time.Now().Add(-365 * 24 * time.Hour) }
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "op-token", Identity: id, Now: skewed})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// The fake verified the signature against its nonce; check the rest.
	p := gw.connects()[0]
	if p.MinProtocol != 3 || p.MaxProtocol != 4 {
		t.Errorf("protocol range = %d..%d, want 3..4", p.MinProtocol, p.MaxProtocol)
	}
	if p.Client.DisplayName != "pairdeck" {
		t.Errorf("client.displayName = %q, want pairdeck to name itself", p.Client.DisplayName)
	}
	if p.Role != protocol.RoleOperator || !slices.Equal(p.Scopes, protocol.AllOperatorScopes) {
		t.Errorf("role %q scopes %v, want operator with every scope", p.Role, p.Scopes)
	}
	if p.Auth == nil || p.Auth.Token != "op-token" {
		t.Errorf("auth = %+v, want the token", p.Auth)
	}
	if p.Client.ID != "cli" || p.Client.Mode != "cli" || p.Client.Platform == "" || p.Client.Version == "" {
		t.Errorf("client = %+v, want OpenClaw-accepted defaults", p.Client)
	}
	if p.Device == nil || p.Device.ID != id.DeviceID || p.Device.Nonce != gw.seenNonces()[0] {
		t.Errorf("device = %+v, want identity %s signing nonce %s", p.Device, id.DeviceID, gw.seenNonces()[0])
	}
	if got := c.Hello(); got.Protocol != 3 || got.Server.Version != "fake" {
		t.Errorf("hello = %+v", got)
	}
	if u := nextUpdate(t, c); !u.StateChanged || u.State != protocol.Connected {
		t.Errorf("first update = %+v, want Connected", u)
	}
}

func TestHandshakeNodeDeclaresCapsAndCommands(t *testing.T) {
	gw := newFakeGateway(t)
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Role: protocol.RoleNode, Identity: mustIdentity(t),
		Caps: []string{"screen"}, Commands: []string{"system.notify"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := gw.connects()[0]
	if p.Role != "node" || p.Client.ID != "node-host" || p.Client.Mode != "node" || p.Auth != nil || len(p.Scopes) != 0 {
		t.Errorf("connect = %+v, want an unpaired node without token or scopes", p)
	}
	if !slices.Equal(p.Caps, []string{"screen"}) || !slices.Equal(p.Commands, []string{"system.notify"}) {
		t.Errorf("caps %v commands %v", p.Caps, p.Commands)
	}
}

func TestNodeWithoutIdentityIsRefusedLocally(t *testing.T) {
	_, err := Dial(testCtx(t), Config{URL: "ws://127.0.0.1:1", Role: protocol.RoleNode})
	if err == nil || !strings.Contains(err.Error(), "identity") {
		t.Fatalf("err = %v, want a missing-identity error", err)
	}
}

func TestHandshakeRefusalIsProtocolError(t *testing.T) {
	gw := newFakeGateway(t)
	gw.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		return nil, protocol.NewError(protocol.CodeNotPaired, protocol.ReasonTokenInvalid, "node token is not valid")
	}
	_, err := Dial(testCtx(t), Config{URL: gw.URL, Role: protocol.RoleNode, Token: "stale", Identity: mustIdentity(t)})
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Reason() != protocol.ReasonTokenInvalid {
		t.Fatalf("err = %v, want a *protocol.Error with TOKEN_INVALID", err)
	}
	if !errors.Is(err, ErrNotPaired) || !strings.Contains(err.Error(), "pair it again") {
		t.Fatalf("err = %v, want ErrNotPaired with a hint", err)
	}
}

// An OpenClaw gateway refuses a node that lacks its shared token; pairing
// again cannot cure that, so the hint must not say so.
func TestMissingSharedTokenIsNotALostPairing(t *testing.T) {
	gw := newFakeGateway(t)
	gw.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.DetailAuthTokenMissing,
			"unauthorized: gateway token missing (provide gateway auth token)")
	}
	_, err := Dial(testCtx(t), Config{URL: gw.URL, Role: protocol.RoleNode, Identity: mustIdentity(t), Token: "node-token"})
	if err == nil || errors.Is(err, ErrNotPaired) || strings.Contains(err.Error(), "pair it again") {
		t.Fatalf("err = %v, want a refusal that is not a lost pairing", err)
	}
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "shared token") {
		t.Fatalf("err = %v, want a hint about the gateway's shared token", err)
	}
}

func TestHandshakeCloseCodeIsReported(t *testing.T) {
	gw := newFakeGateway(t)
	// Close instead of answering connect, as a gateway does on a protocol
	// mismatch.
	gw.srv.Config.Handler = closeAfterConnect(gw, websocket.StatusProtocolError, "protocol mismatch")
	_, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err == nil || !strings.Contains(err.Error(), "1002") || !strings.Contains(err.Error(), "protocol mismatch") {
		t.Fatalf("err = %v, want the close code and reason", err)
	}
	if !terminal(err) {
		t.Errorf("a protocol mismatch must not be retried")
	}
}

func TestHelloWithWrongProtocolIsRefused(t *testing.T) {
	gw := newFakeGateway(t)
	gw.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		h := helloOK(0)
		h.Protocol = 5
		return h, nil
	}
	_, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	var pm *ProtocolMismatchError
	if !errors.As(err, &pm) || !strings.Contains(err.Error(), "speaks protocol 5") || !strings.Contains(err.Error(), "protocols 3 to 4") {
		t.Fatalf("err = %v, want a protocol mismatch naming both sides", err)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	// A listener that accepts TCP but never speaks HTTP.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	_, err = Dial(testCtx(t), Config{URL: "ws://" + ln.Addr().String(), HandshakeTimeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("timeout took %s", time.Since(start))
	}
}

// TestOpenClawShapesAreTolerated replays frames recorded from an OpenClaw
// gateway: extra hello-ok keys, tokens in list and verify results, errors
// without details.
func TestOpenClawShapesAreTolerated(t *testing.T) {
	gw := newFakeGateway(t)
	gw.answer = func(protocol.ConnectParams) (any, *protocol.Error) {
		return rawJSON(`{"type":"hello-ok","protocol":3,"server":{"version":"2026.4.12","connId":"e1d19be1"},` +
			`"features":{"methods":"[129 entries elided]","events":"[24 entries elided]"},"snapshot":"(elided)",` +
			`"canvasHostUrl":"http://127.0.0.1:18791/__openclaw__/cap/x","auth":{"deviceToken":"secret-device-token",` +
			`"role":"operator","scopes":["operator.admin"],"issuedAtMs":1795262278811},` +
			`"policy":{"maxPayload":26214400,"maxBufferedBytes":52428800,"tickIntervalMs":30000}}`), nil
	}
	gw.serve = func(ctx context.Context, s *fakeSession) {
		s.serveRequests(ctx, func(req protocol.Request) (any, *protocol.Error) {
			switch req.Method {
			case protocol.MethodPairList:
				return rawJSON(`{"pending":[],"paired":[{"nodeId":"n1","token":"v_c5XW8DDD-zeQYMKFoTOLOE1Iytn7BIWuOtpPu10GI",` +
					`"displayName":"Renamed","platform":"linux","createdAtMs":1795262302213,"approvedAtMs":1795262302213}]}`), nil
			case protocol.MethodPairVerify:
				return rawJSON(`{"ok":true,"node":{"nodeId":"n1","token":"v_c5XW8DDD","displayName":"Test 2"}}`), nil
			default:
				return nil, &protocol.Error{Code: "INVALID_REQUEST", Message: "unknown method: " + req.Method}
			}
		})
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "peer-test-token"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := c.Hello()
	if h.Server.Version != "2026.4.12" || h.Policy.MaxPayload != 26214400 || h.Auth == nil || h.Auth.Role != "operator" {
		t.Errorf("hello = %+v", h)
	}
	list, err := c.List(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Paired) != 1 || list.Paired[0].Token != "" || list.Paired[0].DisplayName != "Renamed" {
		t.Errorf("paired = %+v, want n1 without its token", list.Paired)
	}
	v, err := c.Verify(testCtx(t), "n1", "v_c5XW8DDD")
	if err != nil || !v.OK || v.Node == nil || v.Node.Token != "" {
		t.Errorf("verify = %+v, %v, want ok without the token", v, err)
	}
	// The features here are not a list, so the call is sent; the peer's
	// "unknown method" becomes a one-line explanation, which code that
	// looks for pairdeck's UNKNOWN_METHOD still recognises.
	_, err = c.Remove(testCtx(t), "n1")
	var perr *protocol.Error
	if !errors.Is(err, ErrUnsupported) || !errors.As(err, &perr) || perr.Reason() != protocol.ReasonUnknownMethod ||
		!strings.Contains(err.Error(), "does not offer node.pair.remove") {
		t.Errorf("remove err = %v, want an UnsupportedError", err)
	}
}

func TestDialOverTLS(t *testing.T) {
	gw := newFakeGateway(t)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(gw.handle))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below is expected
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	url := "wss" + strings.TrimPrefix(tlsSrv.URL, "https")

	// Without trusting the test certificate the dial fails, and says why.
	_, err := Dial(testCtx(t), Config{URL: url, Token: "t"})
	if err == nil || errors.Is(err, ErrNoGateway) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: err = %v, want a TLS error", err)
	}
	t.Logf("untrusted certificate: %v", err)
	tlsCfg := tlsSrv.Client().Transport.(*http.Transport).TLSClientConfig
	c, err := Dial(testCtx(t), Config{URL: url, Token: "t", TLSConfig: tlsCfg})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Call(testCtx(t), "ping", nil, nil); err != nil {
		t.Fatal(err)
	}
}
