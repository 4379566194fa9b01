package tui

import "github.com/pairdeck/pairdeck/protocol"

// self is how this console's own actions are logged: its actor in the one
// form the gateway's events, the audit log and every other view use, so
// one press shows as one actor everywhere. A console not told who it is
// (Options.Actor) says "this console".
func (m *Model) self() string {
	if m.opts.Actor == (protocol.Actor{}) {
		return "this console"
	}
	return m.opts.Actor.String()
}
