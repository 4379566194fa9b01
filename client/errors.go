package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/protocol"
)

// Sentinel errors; callers branch with errors.Is. Gateway refusals are
// *protocol.Error values instead (errors.As, then Reason()).
var (
	// ErrNoGateway: nothing answered at the URL.
	ErrNoGateway = errors.New("no gateway")
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("client closed")
	// ErrNotConnected: the Client is between connections (reconnecting).
	ErrNotConnected = errors.New("not connected to the gateway (reconnecting)")
	// ErrConnectionLost: the connection dropped while a call was in flight;
	// the gateway may or may not have acted on it.
	ErrConnectionLost = errors.New("connection to the gateway was lost")
	// ErrNodeRemoved: an operator removed this node (close 4001).
	ErrNodeRemoved = errors.New("node removed by an operator")
	// ErrNotPaired: this node has no valid pairing (no node.json, or the
	// gateway refused its token).
	ErrNotPaired = errors.New("node is not paired")
	// ErrPairRejected, ErrPairExpired, ErrPairTimedOut end Pair without a
	// token.
	ErrPairRejected = errors.New("pairing request rejected")
	ErrPairExpired  = errors.New("pairing request expired")
	ErrPairTimedOut = errors.New("timed out waiting for approval")
)

// Close codes the gateway uses.
const (
	closeNodeRemoved  websocket.StatusCode = 4001
	closeServiceReset websocket.StatusCode = 1012
)

// NoGatewayError reports that nothing accepted a connection at URL.
// It matches ErrNoGateway and unwraps to the dial error.
type NoGatewayError struct {
	URL string
	Err error
}

func (e *NoGatewayError) Error() string {
	msg := fmt.Sprintf("no gateway at %s: is `pairdeck serve` running?", e.URL)
	// "Connection refused" is fully explained by the message; other causes
	// (DNS, unreachable host) are worth showing.
	if e.Err != nil && !errors.Is(e.Err, syscall.ECONNREFUSED) {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *NoGatewayError) Unwrap() []error { return []error{ErrNoGateway, e.Err} }

// dialError turns a failed WebSocket dial into an error that says what to do.
func dialError(ctx context.Context, url string, resp *http.Response, err error) error {
	if resp != nil {
		return fmt.Errorf("%s answered HTTP %d instead of a WebSocket upgrade: is that a pairdeck gateway? (%w)",
			url, resp.StatusCode, err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("connect to %s: %w", url, ctx.Err())
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return fmt.Errorf("%s presented a TLS certificate this client does not trust: %w; "+
			"trust its CA (Config.TLSConfig), or check the URL", url, certErr.Err)
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) && opErr.Op == "dial" || errors.As(err, &dnsErr) {
		return &NoGatewayError{URL: url, Err: err}
	}
	return fmt.Errorf("connect to %s: %w", url, err)
}

// closeReason describes a close error as "1008 slow consumer".
func closeReason(err error) (websocket.CloseError, bool) {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce, true
	}
	return ce, false
}

// retryWait reports whether err is a refusal that goes away by itself (a
// rate limit, a gateway that is starting, or one that says retryable) and
// the wait the gateway asked for (0: none given). Every other refusal
// repeats identically on retry, so retrying would only hammer the gateway.
func retryWait(err error) (time.Duration, bool) {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter, true
	}
	if errors.Is(err, ErrProtocolMismatch) || errors.Is(err, ErrPairingRequired) || errors.Is(err, ErrAuth) {
		return 0, false
	}
	var perr *protocol.Error
	if errors.As(err, &perr) {
		ok := perr.Retryable || perr.Code == protocol.CodeUnavailable || perr.Reason() == protocol.ReasonRateLimited
		return retryHint(perr), ok
	}
	return 0, false
}

var retryInText = regexp.MustCompile(`retry in ([0-9][0-9a-zµ.]*)`)

// retryHint is a refusal's retryAfterMs, else the wait pairdeck's gateway
// names in its message ("retry in 6s"), else 0.
func retryHint(perr *protocol.Error) time.Duration {
	if perr.RetryAfterMs > 0 {
		return time.Duration(perr.RetryAfterMs) * time.Millisecond
	}
	if m := retryInText.FindStringSubmatch(perr.Message); m != nil {
		if d, err := time.ParseDuration(strings.TrimRight(m[1], ".")); err == nil && d > 0 {
			return d
		}
	}
	return 0
}

// terminal reports whether err ends the Client instead of triggering a
// reconnect.
func terminal(err error) bool {
	if _, ok := retryWait(err); ok {
		return false
	}
	var perr *protocol.Error
	if errors.As(err, &perr) {
		return true
	}
	if errors.Is(err, ErrNodeRemoved) || errors.Is(err, ErrProtocolMismatch) || errors.Is(err, ErrPairingRequired) || errors.Is(err, ErrAuth) {
		return true
	}
	if ce, ok := closeReason(err); ok && ce.Code == websocket.StatusProtocolError {
		return true
	}
	return false
}
