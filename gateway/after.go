package gateway

import "context"

// Work a call leaves for after its answer: a socket's read loop queues the
// response first and then runs it, so a client sees the answer to its call
// before any event the follow-up causes (a node learns its request id
// before the automatic decision on it).

type afterReplyKey struct{}

// followUps collects a call's follow-up work.
type followUps struct{ fns []func() }

// withFollowUps returns a context in which afterReply queues work on f.
func withFollowUps(ctx context.Context) (context.Context, *followUps) {
	f := &followUps{}
	return context.WithValue(ctx, afterReplyKey{}, f), f
}

// run does the queued work in order.
func (f *followUps) run() {
	for _, fn := range f.fns {
		fn()
	}
	f.fns = nil
}

// afterReply runs fn once the call's answer is queued, or now when nobody
// collects follow-ups (a call made straight through handleFrame).
func afterReply(ctx context.Context, fn func()) {
	if f, ok := ctx.Value(afterReplyKey{}).(*followUps); ok {
		f.fns = append(f.fns, fn)
		return
	}
	fn()
}
