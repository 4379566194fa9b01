package protocol

import "time"

// ConnState is a client's view of its link to the gateway.
type ConnState int

const (
	Connecting ConnState = iota
	Connected
	Disconnected
)

func (s ConnState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Connected:
		return "connected"
	default:
		return "disconnected"
	}
}

// Update is what an operator session (remote client or in-process) delivers
// to its consumer: a gateway event, a change of connection state, or a
// request to re-list because events may have been missed (reconnect or a seq
// gap). Events are hints; the list is the truth.
type Update struct {
	Event  *Event    // set for a gateway event
	State  ConnState // set with StateChanged
	Err    error     // why the state changed, when it is Disconnected
	Relist bool      // the consumer should call node.pair.list again
	// RetryAt is when the client tries to connect again, with a
	// Disconnected state while it reconnects; zero when it will not.
	RetryAt time.Time

	StateChanged bool
}
