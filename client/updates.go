package client

import (
	"sync"

	"github.com/pairdeck/pairdeck/protocol"
)

// updateBuffer is how far a consumer may fall behind before its backlog is
// dropped in favour of a Relist.
const updateBuffer = 256

// updates is the non-blocking fan-out to the consumer of Updates().
type updates struct {
	mu     sync.Mutex // serialises senders, so overflow handling is atomic
	ch     chan protocol.Update
	closed bool
}

func (u *updates) init() { u.ch = make(chan protocol.Update, updateBuffer) }

// emit delivers up without ever blocking. When the buffer is full the
// consumer has fallen behind: everything buffered is stale by now, so it is
// dropped and replaced by the current state (from snapshot) and a Relist,
// which is all the consumer needs to catch up. snapshot must not call emit.
func (u *updates) emit(up protocol.Update, snapshot func() protocol.Update) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return
	}
	select {
	case u.ch <- up:
		return
	default:
	}
	for drained := false; !drained; {
		select {
		case <-u.ch:
		default:
			drained = true
		}
	}
	// Only senders holding mu add to ch, so the two sends below fit.
	u.ch <- snapshot()
	u.ch <- protocol.Update{Relist: true}
}

// close ends the stream; later emits are ignored.
func (u *updates) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.closed {
		u.closed = true
		close(u.ch)
	}
}

// seqTracker detects missed events on one connection. Each broadcast event
// carries seq, one more than the previous; the first one seen is the
// baseline. Events without seq (e.g. some gateways' ticks) are not counted.
type seqTracker struct {
	last    uint64
	started bool
}

// observe records seq and reports whether events were missed before it.
func (s *seqTracker) observe(seq uint64) (gap bool) {
	if seq == 0 {
		return false
	}
	if s.started {
		gap = seq != s.last+1
	}
	s.started, s.last = true, seq
	return gap
}
