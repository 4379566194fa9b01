package protocol

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodeFrameKinds(t *testing.T) {
	cases := []struct {
		name, in string
		check    func(t *testing.T, f Frame)
	}{
		{"req", `{"type":"req","id":"1","method":"node.pair.list","params":{}}`, func(t *testing.T, f Frame) {
			if f.Request == nil || f.Request.ID != "1" || f.Request.Method != MethodPairList {
				t.Fatalf("got %+v", f.Request)
			}
		}},
		{"req null params", `{"type":"req","id":"1","method":"m","params":null}`, func(t *testing.T, f Frame) {
			if f.Request == nil || f.Request.Params != nil {
				t.Fatalf("null params should decode as absent, got %q", f.Request.Params)
			}
		}},
		{"res error", `{"type":"res","id":"9","ok":false,"error":{"code":"INVALID_REQUEST","message":"unknown requestId","details":{"code":"UNKNOWN_REQUEST"}}}`, func(t *testing.T, f Frame) {
			if f.Response == nil || f.Response.OK || f.Response.Error.Reason() != ReasonUnknownRequest {
				t.Fatalf("got %+v", f.Response)
			}
		}},
		{"event", `{"type":"event","event":"tick","payload":{"ts":1},"seq":42}`, func(t *testing.T, f Frame) {
			if f.Event == nil || f.Event.Seq != 42 || f.Event.Event != EventTick {
				t.Fatalf("got %+v", f.Event)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := DecodeFrame([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, f)
		})
	}
}

func TestDecodeFrameRejects(t *testing.T) {
	cases := []struct{ in, wantID, wantReason string }{
		{`not json`, "", "not valid JSON at byte 2"},
		{``, "", "empty or truncated JSON"},
		{`[1,2]`, "", "expected a JSON object"},
		{`{"type":"req","id":"7","method":"m","extra":1}`, "7", "unexpected property 'extra'"},
		{`{"type":"req","id":"","method":"m"}`, "", "non-empty id"},
		{`{"type":"req","id":"3"}`, "3", "non-empty method"},
		{`{"type":"req","id":"3","method":"m","params":[1]}`, "3", "params must be an object"},
		{`{"type":"req","id":"3","method":"m","ok":true}`, "3", "only type, id, method, params, traceparent and expectedProfileId"},
		{`{"type":"res","id":"8","ok":true,"traceparent":"x"}`, "8", "a res frame has only"},
		{`{"type":"bogus","id":"4"}`, "4", `unknown type "bogus"`},
		{`{"id":"5","method":"m"}`, "5", "missing type"},
		{`{"type":"req","id":"6","method":"m"} {}`, "6", "trailing data"},
		{`{"type":"req","id":6,"method":"m"}`, "", "property 'id' must be a string"},
	}
	for _, c := range cases {
		_, err := DecodeFrame([]byte(c.in))
		var fe *FrameError
		if !errors.As(err, &fe) {
			t.Fatalf("%s: want FrameError, got %v", c.in, err)
		}
		if fe.ID != c.wantID || !strings.Contains(fe.Reason, c.wantReason) {
			t.Errorf("%s: got id=%q reason=%q, want id=%q reason containing %q", c.in, fe.ID, fe.Reason, c.wantID, c.wantReason)
		}
	}
}

func TestDecodeParamsNamesUnknownKey(t *testing.T) {
	var p PairRequestParams
	err := DecodeParams(json.RawMessage(`{"nodeId":"n9","bogus":1}`), &p)
	if err == nil || err.Error() != "unexpected property 'bogus'" {
		t.Fatalf("got %v", err)
	}
	if err := DecodeParams(nil, &p); err != nil {
		t.Fatalf("empty params: %v", err)
	}
	if err := DecodeParams(json.RawMessage(`{"silent":"yes"}`), &p); err == nil || !strings.Contains(err.Error(), "'silent' must be a boolean") {
		t.Fatalf("got %v", err)
	}
}

func TestErrorFormatting(t *testing.T) {
	e := NewError(CodeInvalidRequest, ReasonMissingScope, "missing scope: %s", ScopeAdmin)
	if e.Error() != "missing scope: operator.admin (MISSING_SCOPE)" || e.Reason() != ReasonMissingScope {
		t.Fatalf("got %q / %q", e.Error(), e.Reason())
	}
	var nilErr *Error
	if nilErr.Reason() != "" {
		t.Fatal("nil error must have no reason")
	}
	b, _ := json.Marshal(InvalidParams(MethodPairRequest, "unexpected property 'x'"))
	want := `{"code":"INVALID_REQUEST","message":"invalid node.pair.request params: unexpected property 'x'","details":{"code":"INVALID_PARAMS"}}`
	if string(b) != want {
		t.Fatalf("got %s", b)
	}
}

func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"req","id":"1","method":"connect","params":{"minProtocol":3,"maxProtocol":4,"client":{"id":"cli","version":"0.0.1","platform":"linux","mode":"cli"},"role":"operator","scopes":["operator.admin"],"auth":{"token":"t"}}}`,
		`{"type":"res","id":"2","ok":true,"payload":{"status":"pending","request":{"requestId":"a","nodeId":"n1","silent":false,"ts":1},"created":true}}`,
		`{"type":"event","event":"node.pair.requested","payload":{"requestId":"a","nodeId":"n1"},"seq":2}`,
		`{"type":"req","id":"19","method":"node.pair.request","params":{"nodeId":"n9","bogus":1}}`,
		`{}`, `[]`, `null`, `"x"`, `{"type":"req"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := DecodeFrame(data)
		if err != nil {
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("error is not a FrameError: %v", err)
			}
			return
		}
		n := 0
		for _, p := range []bool{fr.Request != nil, fr.Response != nil, fr.Event != nil} {
			if p {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("decoded %d frame kinds from %q", n, data)
		}
		if fr.Request != nil {
			// Whatever decodes as a request must re-encode and decode the same.
			again, err := DecodeFrame(MustMarshal(fr.Request))
			if err != nil || again.Request == nil || again.Request.ID != fr.Request.ID || again.Request.Method != fr.Request.Method {
				t.Fatalf("request did not round-trip: %v", err)
			}
		}
	})
}

// OpenClaw node hosts send keys the 2026.4.12 CLI does not; strict decoding
// must still accept them so those clients can connect.
func TestConnectParamsAcceptOpenClawKeys(t *testing.T) {
	raw := json.RawMessage(`{"minProtocol":3,"maxProtocol":3,"client":{"id":"node-host","version":"1","platform":"linux","mode":"node"},
		"role":"node","permissions":{"screen.record":false},"pathEnv":"/usr/bin",
		"auth":{"token":"t","deviceToken":"d","bootstrapToken":"b","password":"p"}}`)
	var p ConnectParams
	if err := DecodeParams(raw, &p); err != nil {
		t.Fatalf("connect params refused: %v", err)
	}
	if p.Auth.Token != "t" || p.PathEnv != "/usr/bin" {
		t.Fatalf("decoded %+v", p)
	}
}
