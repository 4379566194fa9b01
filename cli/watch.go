package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// `nodes pending --watch` follows the queue as kubectl get -w does: one
// readable line per request and per change, on a terminal and when piped
// (cut to the terminal's width only on one); one JSON object per line
// (docs/cli-json.md) only with --json, the one stream scripts parse.

// watchLine is one NDJSON line of `nodes pending --watch`.
type watchLine struct {
	Event    string          `json:"event"`
	Payload  json.RawMessage `json:"payload"`
	Snapshot bool            `json:"snapshot,omitempty"`
	TS       int64           `json:"ts"`
}

// watchSink is where the stream goes: rows for a person or NDJSON.
type watchSink interface {
	// snapshot shows the queue as it is (again, after a reconnect).
	snapshot(pending []protocol.PendingRequest, now time.Time) error
	// event shows one change; payload is the event's as the client
	// passed it on (with expiresAtMs only where the gateway's rule is
	// known).
	event(name string, payload json.RawMessage, now time.Time) error
}

// watchPending prints the current queue, then each change, showing the
// queue again whenever the stream says events may be missing. The session
// reconnects by itself after a drop (a gateway restart): the stream
// carries on, and notes about the connection go to errOut so stdout stays
// what it is.
func watchPending(ctx context.Context, s *session, p *printer, errOut io.Writer) error {
	var sink watchSink = &jsonWatch{p: p}
	if !p.json {
		sink = &rowWatch{p: p, names: map[string]string{}, shown: map[string]string{}}
	}
	snapshot := func() error {
		res, err := s.op.List(ctx)
		if err != nil {
			return fmt.Errorf("list pending: %w", err)
		}
		return sink.snapshot(res.Pending, time.Now())
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
					note(errOut, "reconnected to %s; the pending requests follow again", s.url)
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
				if err := sink.event(u.Event.Event, u.Event.Payload, time.Now()); err != nil {
					return err
				}
			}
		}
	}
}

// jsonWatch writes NDJSON.
type jsonWatch struct{ p *printer }

func (w *jsonWatch) snapshot(pending []protocol.PendingRequest, now time.Time) error {
	for i := len(pending) - 1; i >= 0; i-- { // oldest first, like a log
		payload, err := protocol.MarshalWithExtra(pending[i], pending[i].Extra)
		if err != nil {
			return err
		}
		if err := w.p.JSONLine(watchLine{Event: protocol.EventPairRequested, Payload: payload, Snapshot: true, TS: now.UnixMilli()}); err != nil {
			return err
		}
	}
	return nil
}

func (w *jsonWatch) event(name string, payload json.RawMessage, now time.Time) error {
	return w.p.JSONLine(watchLine{Event: name, Payload: payload, TS: now.UnixMilli()})
}

// rowWatch writes one line per request and per change, a time first:
//
//	14:02:11  waiting   44a1f673  Living Room iPad  fa35:8533:0780 · 127.0.0.1 · ios · expires in 4:12
//	14:02:19  approved  44a1f673  Living Room iPad  by cli (operator)
type rowWatch struct {
	p *printer
	// names remembers each request's and node's name, so a decision,
	// which carries only ids, is shown with the name the request had.
	names map[string]string
	// shown is the short id each request was shown with.
	shown map[string]string
}

func (w *rowWatch) snapshot(pending []protocol.PendingRequest, now time.Time) error {
	if len(pending) == 0 {
		fmt.Fprintln(w.p.out, "No pending requests; waiting for changes (ctrl+c stops).")
		return nil
	}
	ids := make([]string, len(pending))
	for i, r := range pending {
		ids[i] = r.RequestID
	}
	short := uniquePrefixes(ids, shortIDMin)
	for i := len(pending) - 1; i >= 0; i-- {
		w.shown[pending[i].RequestID] = short[i]
		w.request(pending[i], "waiting", now)
	}
	return nil
}

func (w *rowWatch) event(name string, payload json.RawMessage, now time.Time) error {
	switch name {
	case protocol.EventPairRequested:
		var r protocol.PendingRequest
		if json.Unmarshal(payload, &r) == nil {
			w.request(r, "requested", now)
		}
	case protocol.EventPairResolved:
		var ev protocol.ResolvedEvent
		if json.Unmarshal(payload, &ev) == nil {
			name := w.names[ev.RequestID]
			if name == "" {
				name = nameOr(w.names[ev.NodeID], ev.NodeID)
			}
			w.line(now, ev.Decision, w.short(ev.RequestID), name, by(ev.Actor))
		}
	case protocol.EventNodeRenamed:
		var ev protocol.RenamedEvent
		if json.Unmarshal(payload, &ev) == nil {
			old := nameOr(w.names[ev.NodeID], ev.NodeID)
			w.names[ev.NodeID] = ev.DisplayName
			w.line(now, "renamed", "", old, strings.TrimSpace("now "+fmt.Sprintf("%q", ev.DisplayName)+" "+by(ev.Actor)))
		}
	case protocol.EventPairRemoved:
		var ev protocol.RemovedEvent
		if json.Unmarshal(payload, &ev) == nil {
			w.line(now, "removed", "", nameOr(w.names[ev.NodeID], ev.NodeID), by(ev.Actor))
		}
	case protocol.EventNodePresence:
		var ev protocol.PresenceEvent
		if json.Unmarshal(payload, &ev) == nil {
			word := "offline"
			if ev.Connected {
				word = "online"
			}
			w.line(now, word, "", nameOr(w.names[ev.NodeID], ev.NodeID), protocol.Fingerprint(ev.NodeID))
		}
	}
	return nil
}

// request shows a request that is waiting or was just made or refreshed.
func (w *rowWatch) request(r protocol.PendingRequest, word string, now time.Time) {
	name := nameOr(r.DisplayName, r.NodeID)
	w.names[r.RequestID] = name
	if r.DisplayName != "" {
		w.names[r.NodeID] = r.DisplayName
	}
	if r.IsRepair && r.Kind != protocol.KindDevice {
		name += " (re-pair)"
	}
	detail := []string{protocol.Fingerprint(r.NodeID)}
	if r.Kind == protocol.KindDevice {
		detail = append([]string{kindText(r)}, detail...)
	}
	for _, s := range []string{r.RemoteIP, r.Platform} {
		if s != "" {
			detail = append(detail, s)
		}
	}
	switch at, ok := r.ExpiresAt(); {
	case ok:
		detail = append(detail, "expires in "+countdown(now, at.UnixMilli()))
	case word == "waiting" && r.TS > 0:
		// No expiry from the gateway: say how long it has waited.
		detail = append(detail, "asked "+ago(now, r.TS))
	}
	w.line(now, word, w.short(r.RequestID), name, strings.Join(detail, " · "))
}

// short is the id a request was first shown with, so every line about it
// shows the same one.
func (w *rowWatch) short(requestID string) string {
	if s, ok := w.shown[requestID]; ok {
		return s
	}
	s := requestID
	if len(s) > shortIDMin {
		s = s[:shortIDMin]
	}
	w.shown[requestID] = s
	return s
}

// line writes "time  word  id  name  detail", cut to the terminal's width.
func (w *rowWatch) line(now time.Time, word, id, name, detail string) {
	cells := []string{now.Format("15:04:05"), fmt.Sprintf("%-9s", word), fmt.Sprintf("%-8s", id), protocol.Printable(name), protocol.Printable(detail)}
	l := strings.TrimRight(strings.Join(cells, "  "), " ")
	if w.p.width > 0 {
		l = ansi.Truncate(l, w.p.width, "…")
	}
	fmt.Fprintln(w.p.out, l)
}

func by(actor string) string {
	if actor == "" {
		return ""
	}
	return "by " + actor
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

// note writes a "pairdeck: …" line to w (stderr) for the person watching,
// its arguments made printable like a printer's.
func note(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "pairdeck: "+format+"\n", printableArgs(args)...)
}
