package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The envelope writers produce exactly what json.Marshal does.
func TestAppendFramesMatchJSONMarshal(t *testing.T) {
	payloads := []json.RawMessage{
		nil,
		MustMarshal(map[string]any{"ts": 1}),
		MustMarshal(PairListResult{Pending: []PendingRequest{{RequestID: "r", NodeID: "R&D <lab>", NodeMeta: NodeMeta{DisplayName: "Café \u2028 \"x\""}, TS: 5}}, Paired: []PairedNode{}}),
		MustMarshal([]string{}),
	}
	ids := []string{"1", "", "a\"b\\c", "<script>&", "héllo", "line\nbreak", "\u2028", "\x7f"}
	for _, p := range payloads {
		for _, id := range ids {
			for _, ok := range []bool{true, false} {
				r := &Response{Type: TypeRes, ID: id, OK: ok, Payload: p}
				want, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				got, err := AppendResponse([]byte("prefix"), r)
				if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
					t.Fatalf("response %+v:\n got %s (%v)\nwant prefix%s", r, got, err, want)
				}
			}
			for _, seq := range []uint64{0, 1, 1 << 40} {
				e := &Event{Type: TypeEvent, Event: id, Payload: p, Seq: seq}
				want, err := json.Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				if got := AppendEvent(nil, e); !bytes.Equal(got, want) {
					t.Fatalf("event %+v:\n got %s\nwant %s", e, got, want)
				}
			}
		}
	}
	for _, id := range ids {
		p := payloads[2]
		want, _ := json.Marshal(&Response{Type: TypeRes, ID: id, OK: true, Payload: p})
		got := append(append(AppendOKHead(nil, id), p...), '}')
		if !bytes.Equal(got, want) {
			t.Fatalf("head + payload:\n got %s\nwant %s", got, want)
		}
	}
	r := ErrorResponse("x", NewError(CodeInvalidRequest, ReasonUnknownRequest, "unknown requestId <%s>", "r&1"))
	want, _ := json.Marshal(r)
	if got, err := AppendResponse(nil, r); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("error response: %s (%v), want %s", got, err, want)
	}
}
