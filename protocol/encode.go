package protocol

import (
	"encoding/json"
	"strconv"
)

// Frames carry payloads that are already JSON (json.RawMessage, made by
// MustMarshal or spliced from records encoded once). json.Marshal of a
// frame would scan, validate and copy such a payload again, which for a
// list of thousands of nodes costs more than building it. AppendResponse
// and AppendEvent write the frame's envelope around the payload as is and
// produce the same bytes json.Marshal does for a compact, HTML-escaped
// payload (what MustMarshal makes).

// AppendResponse appends r's JSON encoding to b.
func AppendResponse(b []byte, r *Response) ([]byte, error) {
	if r.Error != nil {
		data, err := json.Marshal(r)
		return append(b, data...), err
	}
	if r.OK && r.Type == TypeRes && len(r.Payload) > 0 {
		b = AppendOKHead(b, r.ID)
		b = append(b, r.Payload...)
		return append(b, '}'), nil
	}
	b = append(b, `{"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"id":`...)
	b = appendString(b, r.ID)
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, r.OK)
	if len(r.Payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, r.Payload...)
	}
	return append(b, '}'), nil
}

// AppendOKHead appends the start of a successful response with id, up to
// and including "payload":, so that a large payload can be written
// straight after it (then '}'), without being copied into place.
func AppendOKHead(b []byte, id string) []byte {
	b = append(b, `{"type":"res","id":`...)
	b = appendString(b, id)
	return append(b, `,"ok":true,"payload":`...)
}

// AppendEvent appends e's JSON encoding to b.
func AppendEvent(b []byte, e *Event) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"event":`...)
	b = appendString(b, e.Event)
	if len(e.Payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, e.Payload...)
	}
	if e.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, e.Seq, 10)
	}
	return append(b, '}')
}

// appendString appends s as a JSON string, escaped as json.Marshal does.
func appendString(b []byte, s string) []byte {
	if plainASCII(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}

// plainASCII reports whether s needs no escaping in JSON.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
