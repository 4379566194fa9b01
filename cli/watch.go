package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
func watchPending(ctx context.Context, s *session, p *printer) error {
	enc := json.NewEncoder(p.out)
	snapshot := func() error {
		res, err := s.op.List(ctx)
		if err != nil {
			return fmt.Errorf("list pending: %w", err)
		}
		now := time.Now().UnixMilli()
		for i := len(res.Pending) - 1; i >= 0; i-- { // oldest first, like a log
			if err := enc.Encode(watchLine{Event: protocol.EventPairRequested, Payload: protocol.MustMarshal(res.Pending[i]), Snapshot: true, TS: now}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := snapshot(); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u, ok := <-s.op.Updates():
			if !ok {
				return fmt.Errorf("gateway %s closed the connection", s.url)
			}
			switch {
			case u.Relist:
				if err := snapshot(); err != nil {
					return err
				}
			case u.Event != nil && watched(u.Event.Event):
				if err := enc.Encode(watchLine{Event: u.Event.Event, Payload: u.Event.Payload, TS: time.Now().UnixMilli()}); err != nil {
					return err
				}
			}
		}
	}
}

func watched(event string) bool {
	switch event {
	case protocol.EventPairRequested, protocol.EventPairResolved, protocol.EventNodeRenamed,
		protocol.EventPairRemoved, protocol.EventNodePresence:
		return true
	}
	return false
}
