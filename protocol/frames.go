package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The protocol versions pairdeck's gateway speaks: a connect offering a
// range that holds either is answered with the newest both sides speak
// (Negotiate). Version 4 is OpenClaw's current generation (2026.5 on),
// version 3 its previous one (2026.4): the wire is the same, hello-ok's
// auth block is what differs.
const (
	Version       = 4
	OldestVersion = 3
)

// Negotiate is the newest version in the client's offer [minOffered,
// maxOffered] that pairdeck speaks, and false when the offer holds none.
func Negotiate(minOffered, maxOffered int) (int, bool) {
	for v := Version; v >= OldestVersion; v-- {
		if minOffered <= v && v <= maxOffered {
			return v, true
		}
	}
	return 0, false
}

// Frame type discriminators.
const (
	TypeReq   = "req"
	TypeRes   = "res"
	TypeEvent = "event"
)

// Request is a client → gateway call. OpenClaw 2026.9 clients may add a
// W3C trace context and the user profile they expect to act as; pairdeck
// accepts both (their text checked) and acts on neither.
type Request struct {
	Type              string          `json:"type"`
	ID                string          `json:"id"`
	Method            string          `json:"method"`
	Params            json.RawMessage `json:"params,omitempty"`
	Traceparent       string          `json:"traceparent,omitempty"`
	ExpectedProfileID string          `json:"expectedProfileId,omitempty"`
}

// Response answers the Request with the same ID.
type Response struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Event is a gateway → client push. Seq counts the broadcast events one
// connection has received (per connection), so a gap means a missed event.
type Event struct {
	Type    string          `json:"type"`
	Event   string          `json:"event"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Seq     uint64          `json:"seq,omitempty"`
}

// Frame is any of the three frame kinds, decoded strictly (no other keys).
type Frame struct {
	Request  *Request
	Response *Response
	Event    *Event
}

// rawFrame is the union of every frame key, used to check for strays.
type rawFrame struct {
	Type    string          `json:"type"`
	ID      *string         `json:"id"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	OK      *bool           `json:"ok"`
	Payload json.RawMessage `json:"payload"`
	Error   *Error          `json:"error"`
	Event   *string         `json:"event"`
	Seq     *uint64         `json:"seq"`

	Traceparent       *string `json:"traceparent"`
	ExpectedProfileID *string `json:"expectedProfileId"`
}

// FrameError says why a frame could not be decoded. ID is the frame's id when
// one could be read, so the error response can still be correlated.
type FrameError struct {
	ID     string
	Reason string
}

func (e *FrameError) Error() string { return "invalid frame: " + e.Reason }

// DecodeFrame parses one text frame. It rejects anything but a single JSON
// object of one of the three kinds with exactly that kind's keys.
func DecodeFrame(data []byte) (Frame, error) {
	var raw rawFrame
	if err := strictUnmarshal(data, &raw); err != nil {
		fe := &FrameError{Reason: describeJSONError(err)}
		// Best effort: recover the id so the caller can answer it.
		var idOnly struct {
			ID string `json:"id"`
		}
		if json.NewDecoder(bytes.NewReader(data)).Decode(&idOnly) == nil {
			fe.ID = idOnly.ID
		}
		return Frame{}, fe
	}
	id := ""
	if raw.ID != nil {
		id = *raw.ID
	}
	bad := func(format string, args ...any) (Frame, error) {
		return Frame{}, &FrameError{ID: id, Reason: fmt.Sprintf(format, args...)}
	}
	switch raw.Type {
	case TypeReq:
		if raw.OK != nil || raw.Payload != nil || raw.Error != nil || raw.Event != nil || raw.Seq != nil {
			return bad("a req frame has only type, id, method, params, traceparent and expectedProfileId")
		}
		if id == "" {
			return bad("req frame needs a non-empty id")
		}
		if raw.Method == nil || *raw.Method == "" {
			return bad("req frame needs a non-empty method")
		}
		if raw.Params != nil && !isJSONObject(raw.Params) && !isJSONNull(raw.Params) {
			return bad("params must be an object")
		}
		params := raw.Params
		if isJSONNull(params) {
			params = nil
		}
		req := &Request{Type: TypeReq, ID: id, Method: *raw.Method, Params: params}
		if raw.Traceparent != nil {
			req.Traceparent = *raw.Traceparent
		}
		if raw.ExpectedProfileID != nil {
			req.ExpectedProfileID = *raw.ExpectedProfileID
		}
		return Frame{Request: req}, nil
	case TypeRes:
		if raw.Method != nil || raw.Params != nil || raw.Event != nil || raw.Seq != nil || raw.Traceparent != nil || raw.ExpectedProfileID != nil {
			return bad("a res frame has only type, id, ok, payload and error")
		}
		if id == "" || raw.OK == nil {
			return bad("res frame needs id and ok")
		}
		return Frame{Response: &Response{Type: TypeRes, ID: id, OK: *raw.OK, Payload: raw.Payload, Error: raw.Error}}, nil
	case TypeEvent:
		if raw.ID != nil || raw.Method != nil || raw.Params != nil || raw.OK != nil || raw.Error != nil || raw.Traceparent != nil || raw.ExpectedProfileID != nil {
			return bad("an event frame has only type, event, payload and seq")
		}
		if raw.Event == nil || *raw.Event == "" {
			return bad("event frame needs a non-empty event")
		}
		var seq uint64
		if raw.Seq != nil {
			seq = *raw.Seq
		}
		return Frame{Event: &Event{Type: TypeEvent, Event: *raw.Event, Payload: raw.Payload, Seq: seq}}, nil
	case "":
		return bad("missing type (want req, res or event)")
	default:
		return bad("unknown type %q (want req, res or event)", raw.Type)
	}
}

// DecodeParams decodes a method's params strictly into v: unknown keys are an
// error naming the key, as protocol.md requires. Empty params decode as {}.
func DecodeParams(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || isJSONNull(raw) {
		raw = json.RawMessage("{}")
	}
	if !isJSONObject(raw) {
		return errors.New("params must be an object")
	}
	if err := strictUnmarshal(raw, v); err != nil {
		return errors.New(describeJSONError(err))
	}
	return nil
}

// MustMarshal encodes values pairdeck itself built; they cannot fail to
// encode, so a failure is a programming error.
func MustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("protocol: marshal %T: %v", v, err))
	}
	return b
}

// NewEvent builds an event frame (Seq is set by the sender per connection).
func NewEvent(name string, payload any) *Event {
	return &Event{Type: TypeEvent, Event: name, Payload: MustMarshal(payload)}
}

// NewRequest builds a request frame.
func NewRequest(id, method string, params any) *Request {
	var p json.RawMessage
	if params != nil {
		p = MustMarshal(params)
	}
	return &Request{Type: TypeReq, ID: id, Method: method, Params: p}
}

// OKResponse builds a successful response.
func OKResponse(id string, payload any) *Response {
	return &Response{Type: TypeRes, ID: id, OK: true, Payload: MustMarshal(payload)}
}

// ErrorResponse builds a failed response.
func ErrorResponse(id string, err *Error) *Response {
	return &Response{Type: TypeRes, ID: id, OK: false, Error: err}
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	// Decode stops after one value; anything but whitespace after it is junk.
	rest, _ := bufferedRest(dec)
	if len(bytes.TrimSpace(rest)) != 0 {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func bufferedRest(dec *json.Decoder) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(dec.Buffered())
	return buf.Bytes(), err
}

// describeJSONError turns encoding/json's errors into protocol wording.
func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg := err.Error()
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not valid JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return fmt.Sprintf("expected a JSON object, got %s", typ.Value)
		}
		return fmt.Sprintf("property '%s' must be %s, got %s", field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(msg, "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return fmt.Sprintf("unexpected property '%s'", name)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "empty or truncated JSON"
	}
	return strings.TrimPrefix(msg, "json: ")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}

func isJSONNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }
