package gateway

import (
	"log/slog"
	"sync"
	"time"
)

// logThrottle keeps warnings that a stranger can cause at will (a refused
// Host, a connection over a cap, a failed accept) from flooding the log:
// at most one line per kind every logThrottleEvery, the next one saying
// how many were left out meanwhile.
type logThrottle struct {
	log *slog.Logger

	mu    sync.Mutex
	kinds map[string]*throttled
}

type throttled struct {
	last       time.Time
	suppressed int
}

const logThrottleEvery = 10 * time.Second

func (t *logThrottle) warn(kind, msg string, args ...any) {
	now := time.Now()
	t.mu.Lock()
	if t.kinds == nil {
		t.kinds = map[string]*throttled{}
	}
	k, ok := t.kinds[kind]
	if !ok {
		k = &throttled{}
		t.kinds[kind] = k
	}
	if ok && now.Sub(k.last) < logThrottleEvery {
		k.suppressed++
		t.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.last, k.suppressed = now, 0
	t.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "sameSinceLastLine", suppressed)
	}
	t.log.Warn(msg, args...)
}
