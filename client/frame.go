package client

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// frame is an incoming frame, decoded leniently: the client accepts keys it
// does not know (an OpenClaw gateway adds some) rather than drop the link.
type frame struct {
	Type    string          `json:"type"`
	ID      string          `json:"id"`
	OK      bool            `json:"ok"`
	Payload json.RawMessage `json:"payload"`
	Error   json.RawMessage `json:"error"`
	Event   string          `json:"event"`
	Seq     uint64          `json:"seq"`
}

// protocolError returns the error of a failed response, tolerating details
// that are not pairdeck's shape.
func (f frame) protocolError() *protocol.Error { return errorFromRaw(f.Error) }

var errNotJSON = errors.New("frame is not a JSON object")

// readFrame reads the next text frame. Binary frames are skipped; they are
// not part of the protocol.
func readFrame(ctx context.Context, ws *websocket.Conn) (frame, error) {
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return frame{}, err
		}
		if typ != websocket.MessageText {
			continue
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			return frame{}, errNotJSON
		}
		return f, nil
	}
}

func writeFrame(ctx context.Context, ws *websocket.Conn, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return ws.Write(ctx, websocket.MessageText, data)
}
