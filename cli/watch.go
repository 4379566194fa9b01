package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// watchLine is one NDJSON line of `nodes pending --watch`.
type watchLine struct {
	Event    string          `json:"event"`
	Payload  json.RawMessage `json:"payload"`
	Snapshot bool            `json:"snapshot,omitempty"`
	TS       int64           `json:"ts"`
}

// watchPending prints the current queue as snapshot lines, then each event,
// re-printing the snapshot whenever the stream says events may be missing.
// The session reconnects by itself after a drop (a gateway restart): the
// stream carries on, and notes about the connection go to errOut so stdout
// stays NDJSON.
func watchPending(ctx context.Context, s *session, p *printer, errOut io.Writer) error {
	snapshot := func() error {
		res, err := s.op.List(ctx)
		if err != nil {
			return fmt.Errorf("list pending: %w", err)
		}
		now := time.Now().UnixMilli()
		for i := len(res.Pending) - 1; i >= 0; i-- { // oldest first, like a log
			if err := p.JSONLine(watchLine{Event: protocol.EventPairRequested, Payload: protocol.MustMarshal(withExpiry(res.Pending[i : i+1])[0]), Snapshot: true, TS: now}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := snapshot(); err != nil {
		return err
	}
	connected := true
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u, ok := <-s.op.Updates():
			if !ok {
				if e, ok := s.op.(interface{ Err() error }); ok && e.Err() != nil {
					return fmt.Errorf("gateway %s ended the stream: %w", s.url, e.Err())
				}
				return fmt.Errorf("gateway %s closed the connection", s.url)
			}
			switch {
			case u.StateChanged:
				switch {
				case u.State == protocol.Connected && !connected:
					connected = true
					note(errOut, "reconnected to %s; the pending requests follow again as snapshot lines", s.url)
				case u.State == protocol.Disconnected && connected && u.Err != nil:
					connected = false
					note(errOut, "lost the gateway %s (%v); reconnecting", s.url, u.Err)
				}
			case u.Relist:
				// A transient failure means the connection dropped again:
				// the next reconnect asks for the snapshot once more.
				if err := snapshot(); err != nil && !transientCall(err) {
					return err
				}
			case u.Event != nil && watched(u.Event.Event):
				payload := u.Event.Payload
				if u.Event.Event == protocol.EventPairRequested {
					var r protocol.PendingRequest
					if json.Unmarshal(payload, &r) == nil && r.ExpiresAtMs == 0 && r.TS != 0 {
						var m map[string]any
						if json.Unmarshal(payload, &m) == nil {
							m["expiresAtMs"] = expiresAt(r)
							payload = protocol.MustMarshal(m)
						}
					}
				}
				if err := p.JSONLine(watchLine{Event: u.Event.Event, Payload: payload, TS: time.Now().UnixMilli()}); err != nil {
					return err
				}
			}
		}
	}
}

// note writes a "pairdeck: …" line to w (stderr) for the person watching,
// its arguments made printable like a printer's.
func note(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "pairdeck: "+format+"\n", printableArgs(args)...)
}

// transientCall reports a call that failed only because the connection was
// down or dropped under it.
func transientCall(err error) bool {
	return errors.Is(err, client.ErrNotConnected) || errors.Is(err, client.ErrConnectionLost)
}

func watched(event string) bool {
	switch event {
	case protocol.EventPairRequested, protocol.EventPairResolved, protocol.EventNodeRenamed,
		protocol.EventPairRemoved, protocol.EventNodePresence:
		return true
	}
	return false
}
