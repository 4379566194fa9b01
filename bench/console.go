package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/tui"
)

// The console is measured in this process, the way Bubble Tea drives it:
// messages in through Update, frames out through View. Its backend is a
// fixed list, so the figures are the console's own cost and nothing else.

// consoleWidth and consoleHeight are the terminal the frames are drawn for.
const (
	consoleWidth  = 80
	consoleHeight = 24
)

// staticBackend answers node.pair.list with a fixed queue and delivers
// whatever the harness puts on its update channel.
type staticBackend struct {
	list    protocol.PairListResult
	updates chan protocol.Update
}

func (b *staticBackend) List(context.Context) (protocol.PairListResult, error) { return b.list, nil }
func (b *staticBackend) Nodes(context.Context) (protocol.NodeListResult, error) {
	return protocol.NodeListResult{Nodes: []protocol.NodeInfo{}}, nil
}
func (b *staticBackend) Approve(context.Context, string) (protocol.ApproveResult, error) {
	return protocol.ApproveResult{}, errors.New("bench backend: read only")
}
func (b *staticBackend) Reject(context.Context, string) (protocol.RejectResult, error) {
	return protocol.RejectResult{}, errors.New("bench backend: read only")
}
func (b *staticBackend) Rename(context.Context, string, string) (protocol.RenameResult, error) {
	return protocol.RenameResult{}, errors.New("bench backend: read only")
}
func (b *staticBackend) Remove(context.Context, string) (protocol.RemoveResult, error) {
	return protocol.RemoveResult{}, errors.New("bench backend: read only")
}
func (b *staticBackend) Updates() <-chan protocol.Update { return b.updates }

// pendingQueue builds n pending requests as the gateway lists them: newest
// first, with expiresAtMs, all well within their window at now.
func pendingQueue(n int, now time.Time) []protocol.PendingRequest {
	out := make([]protocol.PendingRequest, n)
	for i := range out {
		p := nodeParams(nodeID(), i)
		ts := now.Add(-time.Duration(i) * 10 * time.Millisecond).UnixMilli()
		out[i] = protocol.PendingRequest{
			RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), NodeID: p.NodeID,
			NodeMeta: protocol.NodeMeta{DisplayName: p.DisplayName, Platform: p.Platform, Version: p.Version, CoreVersion: p.CoreVersion, DeviceFamily: p.DeviceFamily, ModelIdentifier: p.ModelIdentifier, Caps: p.Caps, Commands: p.Commands, RemoteIP: p.RemoteIP}, TS: ts, ExpiresAtMs: ts + (5 * time.Minute).Milliseconds(),
			RequiredApproveScopes: protocol.RequiredApproveScopes(p.Commands),
		}
	}
	return out
}

// driver runs a console model as a Bubble Tea program would, minus the
// terminal: commands run on goroutines and their messages come back to
// one loop that calls Update.
type driver struct {
	m    tea.Model
	msgs chan tea.Msg
	stop chan struct{}
}

func newDriver(m tea.Model) *driver {
	return &driver{m: m, msgs: make(chan tea.Msg, 64), stop: make(chan struct{})}
}

func (d *driver) exec(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				d.exec(c)
			}
			return
		}
		if msg == nil {
			return
		}
		select {
		case d.msgs <- msg:
		case <-d.stop:
		}
	}()
}

// update applies one message and returns how long Update took.
func (d *driver) update(msg tea.Msg) time.Duration {
	start := time.Now()
	m, cmd := d.m.Update(msg)
	took := time.Since(start)
	d.m = m
	d.exec(cmd)
	return took
}

// until applies messages as they come until done reports true.
func (d *driver) until(timeout time.Duration, what string, done func() bool) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for !done() {
		select {
		case msg := <-d.msgs:
			d.update(msg)
		case <-t.C:
			return fmt.Errorf("console: %s did not happen within %s", what, timeout)
		}
	}
	return nil
}

func (d *driver) close() { close(d.stop) }

// await applies messages until one of the console's own message type
// `kind` comes, and records how long Update took on that one (when took is
// not nil). Other messages (the one-second tick) are applied untimed.
func (d *driver) await(kind string, took *samples) error {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case msg := <-d.msgs:
			if !isMsg(msg, kind) {
				d.update(msg)
				continue
			}
			dur := d.update(msg)
			if took != nil {
				*took = append(*took, dur)
			}
			return nil
		case <-t.C:
			return fmt.Errorf("console: no %s within 10s", kind)
		}
	}
}

// isMsg recognises one of the console's messages by its type name: the
// types are the console's own and not exported.
func isMsg(msg tea.Msg, kind string) bool {
	return strings.HasSuffix(fmt.Sprintf("%T", msg), "."+kind)
}

// The console's message types the harness waits for, by name.
const (
	msgUpdate    = "updateMsg"    // an update from the backend's subscription
	msgRefreshed = "refreshedMsg" // the result of node.pair.list + node.list
)

// consoleFigures are the console's costs with n pending requests.
type consoleFigures struct {
	frame  samples // one View() at 80×24
	event  samples // one Update with a new node.pair.requested
	relist samples // one Update with a fresh list of the whole queue
}

// measureConsole loads n pending requests into a console, then times
// frames (View), the arrival of new requests and re-lists (Update).
func measureConsole(ctx context.Context, n, frames, events, relists int) (consoleFigures, error) {
	now := time.Now()
	clock := func() time.Time { return now }
	backend := &staticBackend{
		list:    protocol.PairListResult{Pending: pendingQueue(n, now), Paired: []protocol.PairedNode{}},
		updates: make(chan protocol.Update, 1),
	}
	defer close(backend.updates)
	// True colour: the costlier profile, and what most terminals are.
	m := tui.New(backend, tui.Options{Now: clock, Theme: "dark", ColorProfile: colorprofile.TrueColor})

	d := newDriver(m)
	defer d.close()
	d.update(tea.WindowSizeMsg{Width: consoleWidth, Height: consoleHeight})
	d.exec(m.Init())
	tab := fmt.Sprintf("Pending %d", n)
	if err := d.until(10*time.Second, "the first list", func() bool { return strings.Contains(d.m.View().Content, tab) }); err != nil {
		return consoleFigures{}, err
	}

	var f consoleFigures
	for range 10 { // warm up
		_ = d.m.View().Content
	}
	for range frames {
		start := time.Now()
		_ = d.m.View().Content
		f.frame = append(f.frame, time.Since(start))
	}

	for i := range events {
		if err := ctx.Err(); err != nil {
			return f, err
		}
		req := pendingQueue(1, now)[0]
		req.RequestID = fmt.Sprintf("10000000-0000-4000-8000-%012d", i)
		req.DisplayName = fmt.Sprintf("late-node-%05d", i)
		ev := &protocol.Event{Type: protocol.TypeEvent, Event: protocol.EventPairRequested,
			Payload: protocol.MustMarshal(req), Seq: uint64(i + 1)}
		backend.updates <- protocol.Update{Event: ev}
		// The console's own waiting command picks the update up and hands
		// it back as a message; only Update is timed.
		if err := d.await(msgUpdate, &f.event); err != nil {
			return f, err
		}
	}
	// A re-list (the console asks for one on any seq gap or reconnect,
	// and after approvals made elsewhere) replaces the whole queue.
	for range relists {
		backend.updates <- protocol.Update{Relist: true}
		if err := d.await(msgUpdate, nil); err != nil {
			return f, err
		}
		if err := d.await(msgRefreshed, &f.relist); err != nil {
			return f, err
		}
	}
	// The static list does not hold the requests the events added, so a
	// re-list drops them again.
	want := fmt.Sprintf("Pending %d", n+events)
	if relists > 0 {
		want = tab
	}
	if v := d.m.View().Content; !strings.Contains(v, want) {
		return f, fmt.Errorf("console: at the end the tabs do not say %q", want)
	}
	return f, nil
}
