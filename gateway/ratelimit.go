package gateway

import (
	"math"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// limiter is a set of token buckets keyed by network prefix (prefixKey).
type limiter struct {
	rate Rate
	now  func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// pruneAt is the bucket count above which full buckets are forgotten, so a
// scan from many addresses cannot grow the map without bound.
const pruneAt = 4096

func newLimiter(rate Rate, now func() time.Time) *limiter {
	return &limiter{rate: rate, now: now, buckets: make(map[string]*bucket)}
}

func (l *limiter) off() bool { return l.rate.Burst < 0 }

// refill brings key's bucket up to date and returns it (callers hold mu).
func (l *limiter) refill(key string) *bucket {
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= pruneAt {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.rate.Burst), last: now}
		l.buckets[key] = b
		return b
	}
	if l.rate.Every > 0 && now.After(b.last) {
		b.tokens = math.Min(float64(l.rate.Burst), b.tokens+float64(now.Sub(b.last))/float64(l.rate.Every))
	}
	b.last = now
	return b
}

func (l *limiter) prune(now time.Time) {
	for k, b := range l.buckets {
		full := b.tokens+float64(now.Sub(b.last))/float64(max(l.rate.Every, 1)) >= float64(l.rate.Burst)
		if full {
			delete(l.buckets, k)
		}
	}
}

// retryAfter is how long until b holds a whole token again.
func (l *limiter) retryAfter(b *bucket) time.Duration {
	if l.rate.Every <= 0 {
		return 0
	}
	need := 1 - b.tokens
	return time.Duration(need * float64(l.rate.Every))
}

// take spends one token for key; when none is left it reports false and
// how long to wait.
func (l *limiter) take(key string) (bool, time.Duration) { return l.check(key, true) }

// peek reports whether key has a token left, spending none, and when
// not, how long until it has.
func (l *limiter) peek(key string) (bool, time.Duration) { return l.check(key, false) }

// check is take (spend) and peek (look only).
func (l *limiter) check(key string, spend bool) (bool, time.Duration) {
	if l.off() {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.refill(key)
	if b.tokens < 1 {
		return false, l.retryAfter(b)
	}
	if spend {
		b.tokens--
	}
	return true, 0
}

// failed counts a failure for key and reports whether its budget was
// already spent: then the failure's answer is held back (slowed down).
// Only failures count, so a correct credential is never refused for what
// others sent from the same network.
func (l *limiter) failed(key string) (overBudget bool) {
	ok, _ := l.take(key)
	return !ok
}

// rateLimited is the RATE_LIMITED answer, with the wait in the message and
// as retryAfterMs, so clients retry when it is worth it.
func rateLimited(wait time.Duration, format string, args ...any) *protocol.Error {
	wait = max(wait, time.Millisecond)
	e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonRateLimited, format, args...)
	e.Message += "; retry in " + humanWait(wait)
	e.Retryable = true
	e.RetryAfterMs = int64((wait + time.Millisecond - 1) / time.Millisecond)
	return e
}

// humanWait renders a retry delay rounded up to whole seconds, at least one.
func humanWait(d time.Duration) string {
	return max((d + time.Second - 1).Truncate(time.Second), time.Second).String()
}
