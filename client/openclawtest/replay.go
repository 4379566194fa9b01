// Package openclawtest is the replay double of OpenClaw gateways for tests:
// a WebSocket server that plays back, to a client under test, what a real
// OpenClaw gateway sent in a recording (client/testdata/openclaw/<version>/
// <scenario>.jsonl, written by scripts/record-openclaw.sh; the README there
// lists the scenarios and their connections). Package client's tests and
// the CLI's tests (which run the pairdeck binary against it) share it.
//
// Each incoming connection is served one recorded connection, named by its
// label: the recorded challenge, then the recorded answer to connect, then
// for each request the client sends the recorded answer to the same method
// with the same params (and the events the gateway sent around it), ids
// rewritten to the client's. A request the recording cannot answer fails
// the test. The recorded device id of a connection is replaced by the
// client's own, so a node's events name it.
package openclawtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// Line is one line of a recording.
type Line struct {
	Conn   string          `json:"conn"`
	Dir    string          `json:"dir"` // c2s, s2c, close
	Frame  json.RawMessage `json:"frame"`
	By     string          `json:"by"`
	Code   int             `json:"code"`
	Reason string          `json:"reason"`
	Step   string          `json:"step"`
}

// Frame is the part of a recorded frame the double looks at.
type Frame struct {
	Type   string          `json:"type"`
	ID     string          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Event  string          `json:"event"`
	OK     *bool           `json:"ok"`
}

// Recording is one scenario recorded from one release.
type Recording struct {
	Version, Scenario string
	Lines             []Line
}

// Dir is where the recordings live: client/testdata/openclaw, found from
// this file's place in the module (tests run in the source tree).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "openclaw")
}

// Load reads testdata/openclaw/<version>/<scenario>.jsonl.
func Load(t testing.TB, version, scenario string) *Recording {
	t.Helper()
	path := filepath.Join(Dir(), version, scenario+".jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture: %v (re-record with scripts/record-openclaw.sh %s)", err, version)
	}
	r := &Recording{Version: version, Scenario: scenario}
	for i, l := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var fl Line
		if err := json.Unmarshal(l, &fl); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		r.Lines = append(r.Lines, fl)
	}
	return r
}

// Conn returns the lines of one recorded connection.
func (r *Recording) Conn(t testing.TB, label string) []Line {
	t.Helper()
	var out []Line
	for _, l := range r.Lines {
		if l.Conn == label {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s/%s has no connection %q", r.Version, r.Scenario, label)
	}
	return out
}

// Labels lists the recording's connections in the order they began.
func (r *Recording) Labels() []string {
	var out []string
	for _, l := range r.Lines {
		if l.Conn != "" && !slices.Contains(out, l.Conn) {
			out = append(out, l.Conn)
		}
	}
	return out
}

// Frames returns the recorded s2c frames of label.
func (r *Recording) Frames(t testing.TB, label string) []json.RawMessage {
	var out []json.RawMessage
	for _, l := range r.Conn(t, label) {
		if l.Dir == "s2c" {
			out = append(out, l.Frame)
		}
	}
	return out
}

// ConnectParams is what the client sent in label's recorded connect.
func (r *Recording) ConnectParams(t testing.TB, label string) protocol.ConnectParams {
	for _, l := range r.Conn(t, label) {
		var f Frame
		if l.Dir == "c2s" && json.Unmarshal(l.Frame, &f) == nil && f.Method == protocol.MethodConnect {
			var p protocol.ConnectParams
			_ = json.Unmarshal(f.Params, &p)
			return p
		}
	}
	t.Fatalf("%s has no connect", label)
	return protocol.ConnectParams{}
}

// exchange is one recorded request and everything the gateway sent until
// the next request.
type exchange struct {
	method string
	params json.RawMessage
	id     string // recorded request id
	after  []Line
	used   bool
}

// script splits a recorded connection into its challenge, its connect
// exchange, what followed it, and its request exchanges.
type script struct {
	label     string
	challenge json.RawMessage
	connect   *exchange
	requests  []*exchange
	deviceID  string // the recorded device id, replaced by the client's
}

func newScript(t testing.TB, r *Recording, label string) *script {
	t.Helper()
	s := &script{label: label}
	var cur *exchange
	for _, l := range r.Conn(t, label) {
		var f Frame
		_ = json.Unmarshal(l.Frame, &f)
		switch {
		case l.Dir == "s2c" && f.Type == "event" && f.Event == protocol.EventChallenge && s.connect == nil:
			s.challenge = l.Frame
		case l.Dir == "c2s" && f.Type == "req":
			cur = &exchange{method: f.Method, params: f.Params, id: f.ID}
			if f.Method == protocol.MethodConnect {
				s.connect = cur
				var p protocol.ConnectParams
				if json.Unmarshal(f.Params, &p) == nil && p.Device != nil {
					s.deviceID = p.Device.ID
				}
			} else {
				s.requests = append(s.requests, cur)
			}
		case cur != nil && (l.Dir == "s2c" || (l.Dir == "close" && l.By == "server")):
			cur.after = append(cur.after, l)
		}
	}
	if s.challenge == nil || s.connect == nil {
		t.Fatalf("%s/%s %s: no challenge or connect recorded", r.Version, r.Scenario, label)
	}
	return s
}

// Gateway serves recorded connections, one per incoming connection in
// the order given (the last one repeats).
type Gateway struct {
	t   testing.TB
	Rec *Recording
	srv *httptest.Server
	URL string

	mu       sync.Mutex
	labels   []string
	n        int
	connects []protocol.ConnectParams
	unserved []string
	served   []string // methods answered, in order
	live     *replaySession
	// CheckConnect compares the client's connect with the recorded one
	// (default: role, client id/mode, device, kinds of credential, and
	// the device signature over the recorded challenge).
	CheckConnect bool
	// skip is how many recorded answers of a method each connection
	// passes over (SkipAnswers).
	skip map[string]int
}

// SkipAnswers makes every connection from now on pass over the first n
// recorded answers to method, so a client that calls it once gets a later
// state of the recording (e.g. the third list).
func (g *Gateway) SkipAnswers(method string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.skip == nil {
		g.skip = map[string]int{}
	}
	g.skip[method] = n
}

type replaySession struct {
	ws     *websocket.Conn
	script *script
	swap   func([]byte) []byte
	wmu    sync.Mutex
}

// New starts a replay of scenario of version, serving the recorded
// connections labels to incoming connections in order (the last repeats).
// A request the recording cannot answer fails t.
func New(t testing.TB, version, scenario string, labels ...string) *Gateway {
	t.Helper()
	g := &Gateway{t: t, Rec: Load(t, version, scenario), labels: labels, CheckConnect: true}
	for _, l := range labels {
		newScript(t, g.Rec, l) // fail early on a wrong label
	}
	g.srv = httptest.NewServer(http.HandlerFunc(g.handle))
	g.URL = "ws" + strings.TrimPrefix(g.srv.URL, "http")
	t.Cleanup(g.srv.Close)
	return g
}

// Sent returns the connect params the client sent so far.
func (g *Gateway) Sent() []protocol.ConnectParams {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.connects)
}

func (g *Gateway) fail(format string, args ...any) {
	g.mu.Lock()
	g.unserved = append(g.unserved, fmt.Sprintf(format, args...))
	g.mu.Unlock()
	g.t.Errorf(format, args...)
}

func (g *Gateway) handle(w http.ResponseWriter, r *http.Request) {
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer ws.CloseNow()
	ws.SetReadLimit(1 << 20)
	g.mu.Lock()
	label := g.labels[min(g.n, len(g.labels)-1)]
	g.n++
	skip := maps.Clone(g.skip)
	g.mu.Unlock()
	s := &replaySession{ws: ws, script: newScript(g.t, g.Rec, label), swap: func(b []byte) []byte { return b }}
	for _, ex := range s.script.requests {
		if skip[ex.method] > 0 {
			skip[ex.method]--
			ex.used = true
		}
	}
	ctx := r.Context()
	s.send(s.script.challenge)

	_, data, err := ws.Read(ctx)
	if err != nil {
		return
	}
	var req Frame
	if json.Unmarshal(data, &req) != nil || req.Method != protocol.MethodConnect {
		g.fail("replay %s: first frame is not connect: %s", label, data)
		return
	}
	var p protocol.ConnectParams
	_ = json.Unmarshal(req.Params, &p)
	g.mu.Lock()
	g.connects = append(g.connects, p)
	g.live = s
	g.mu.Unlock()
	if g.CheckConnect {
		g.compareConnect(label, p)
	}
	if s.script.deviceID != "" && p.Device != nil {
		from, to := []byte(s.script.deviceID), []byte(p.Device.ID)
		s.swap = func(b []byte) []byte { return bytes.ReplaceAll(b, from, to) }
	}
	if !s.play(ctx, s.script.connect, req.ID) {
		return
	}
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var f Frame
		if json.Unmarshal(data, &f) != nil || f.Type != "req" {
			continue
		}
		ex := s.script.match(f.Method, f.Params)
		if ex == nil {
			g.fail("replay %s/%s %s: no recorded answer for %s %s", g.Rec.Version, g.Rec.Scenario, label, f.Method, f.Params)
			s.send([]byte(fmt.Sprintf(`{"type":"res","id":%q,"ok":false,"error":{"code":"INVALID_REQUEST","message":"replay: nothing recorded for %s"}}`, f.ID, f.Method)))
			continue
		}
		g.mu.Lock()
		g.served = append(g.served, f.Method)
		g.mu.Unlock()
		if !s.play(ctx, ex, f.ID) {
			return
		}
	}
}

// Answered returns the methods answered so far.
func (g *Gateway) Answered() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.served)
}

// PushRaw sends a frame over the live session.
func (g *Gateway) PushRaw(t testing.TB, frame string) {
	t.Helper()
	g.mu.Lock()
	s := g.live
	g.mu.Unlock()
	if s == nil {
		t.Fatal("replay: no live session to push to")
	}
	s.send([]byte(frame))
}

// compareConnect checks that the client connected the way the recording
// did, so the recorded answer applies.
func (g *Gateway) compareConnect(label string, got protocol.ConnectParams) {
	want := g.Rec.ConnectParams(g.t, label)
	kinds := func(a *protocol.ConnectAuth) string {
		if a == nil {
			return ""
		}
		var k []string
		if a.Token != "" {
			k = append(k, "token")
		}
		if a.Password != "" {
			k = append(k, "password")
		}
		if a.DeviceToken != "" {
			k = append(k, "deviceToken")
		}
		return strings.Join(k, "+")
	}
	switch {
	case got.Role != want.Role:
		g.fail("replay %s: role %q, the recording connected as %q", label, got.Role, want.Role)
	case got.Client.ID != want.Client.ID || got.Client.Mode != want.Client.Mode:
		g.fail("replay %s: client %s/%s, the recording was %s/%s", label, got.Client.ID, got.Client.Mode, want.Client.ID, want.Client.Mode)
	case (got.Device == nil) != (want.Device == nil):
		g.fail("replay %s: device sent %v, the recording %v", label, got.Device != nil, want.Device != nil)
	case kinds(got.Auth) != kinds(want.Auth):
		g.fail("replay %s: credentials %q, the recording sent %q", label, kinds(got.Auth), kinds(want.Auth))
	}
	if got.Device == nil {
		return
	}
	// The signature must hold for the recorded challenge with signedAt at
	// the challenge's own time (the gateway allows ±2 minutes).
	var ch struct {
		Payload protocol.ChallengeEvent `json:"payload"`
	}
	_ = json.Unmarshal(newScript(g.t, g.Rec, label).challenge, &ch)
	sp := protocol.SignedPayload{ClientID: got.Client.ID, ClientMode: got.Client.Mode, Role: got.Role, Scopes: got.Scopes,
		Platform: got.Client.Platform, DeviceFamily: got.Client.DeviceFamily}
	if got.Auth != nil {
		sp.Token = got.Auth.Token
		if sp.Token == "" {
			sp.Token = got.Auth.DeviceToken
		}
	}
	if err := protocol.VerifyDevice(*got.Device, ch.Payload.Nonce, time.UnixMilli(ch.Payload.TS), sp); err != nil {
		g.fail("replay %s: device signature: %v", label, err)
	}
	if got.Device.SignedAt != ch.Payload.TS {
		g.fail("replay %s: signedAt %d, want the challenge's ts %d", label, got.Device.SignedAt, ch.Payload.TS)
	}
}

// match finds the first unused recorded exchange for method and params.
func (s *script) match(method string, params json.RawMessage) *exchange {
	for _, ex := range s.requests {
		if !ex.used && ex.method == method && sameParams(ex.params, params) {
			ex.used = true
			return ex
		}
	}
	return nil
}

func sameParams(a, b json.RawMessage) bool {
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	if x == nil {
		x = map[string]any{}
	}
	if y == nil {
		y = map[string]any{}
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// play sends what the gateway sent after ex, the response under the
// client's id; false once the recorded gateway closed the connection.
func (s *replaySession) play(ctx context.Context, ex *exchange, clientID string) bool {
	for _, l := range ex.after {
		if l.Dir == "close" {
			_ = s.ws.Close(websocket.StatusCode(l.Code), l.Reason)
			return false
		}
		frame := l.Frame
		var f Frame
		if json.Unmarshal(frame, &f) == nil && f.Type == "res" && f.ID == ex.id {
			var m map[string]json.RawMessage
			_ = json.Unmarshal(frame, &m)
			m["id"], _ = json.Marshal(clientID)
			frame, _ = json.Marshal(m)
		}
		s.send(frame)
	}
	return ctx.Err() == nil
}

func (s *replaySession) send(frame []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.ws.Write(ctx, websocket.MessageText, s.swap(frame))
}

// Push sends recorded s2c event frames of another connection of the same
// recording over the live session (e.g. what the gateway sent a node).
func (g *Gateway) Push(t testing.TB, label string, events ...string) int {
	t.Helper()
	g.mu.Lock()
	s := g.live
	g.mu.Unlock()
	if s == nil {
		t.Fatal("replay: no live session to push to")
	}
	n := 0
	for _, f := range g.Rec.Frames(t, label) {
		var w Frame
		if json.Unmarshal(f, &w) == nil && w.Type == "event" && slices.Contains(events, w.Event) {
			s.send(f)
			n++
		}
	}
	return n
}

// Frame decodes into v the first recorded s2c frame of label for which
// pick is true.
func (r *Recording) Frame(t testing.TB, label string, pick func(Frame, json.RawMessage) bool, v any) {
	t.Helper()
	for _, f := range r.Frames(t, label) {
		var w Frame
		if json.Unmarshal(f, &w) == nil && pick(w, f) {
			if err := json.Unmarshal(f, v); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("%s/%s %s: no such frame", r.Version, r.Scenario, label)
}

// Result decodes into v the payload of the recorded response to the n-th
// (from 0) request of method on label.
func (r *Recording) Result(t testing.TB, label, method string, n int, v any) {
	t.Helper()
	s := newScript(t, r, label)
	for _, ex := range s.requests {
		if ex.method != method {
			continue
		}
		if n > 0 {
			n--
			continue
		}
		for _, l := range ex.after {
			var f struct {
				Type    string          `json:"type"`
				ID      string          `json:"id"`
				Payload json.RawMessage `json:"payload"`
			}
			if json.Unmarshal(l.Frame, &f) == nil && f.Type == "res" && f.ID == ex.id {
				if err := json.Unmarshal(f.Payload, v); err != nil {
					t.Fatal(err)
				}
				return
			}
		}
	}
	t.Fatalf("%s/%s %s: no recorded result of %s #%d", r.Version, r.Scenario, label, method, n)
}
