package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pairdeck/pairdeck/policy"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// Defaults for the zero values of Config.
const (
	DefaultTickInterval      = 30 * time.Second
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultMaxPayload        = 1 << 20  // policy.maxPayload after an operator's handshake
	DefaultNodeMaxPayload    = 16 << 10 // after a node's: its request is a few KiB
	DefaultPreHandshakeLimit = 64 << 10 // before the handshake completes
	DefaultUnpairedGrace     = 15 * time.Second
	DefaultSendQueue         = 256 // frames buffered per connection
	DefaultWriteTimeout      = 10 * time.Second
	DefaultDeliveryWait      = time.Second
	DefaultHookTimeout       = 10 * time.Second
)

// Default rate limits, per network prefix (see IPv4Prefix).
var (
	// DefaultRequestRate lets a node ask to pair 10 times at once and once
	// every 6 s after that: plenty for a device retrying, too little to
	// flood the queue.
	DefaultRequestRate = Rate{Burst: 10, Every: 6 * time.Second}
	// DefaultFailedAuthRate allows 10 wrong tokens at once and one more
	// every 6 s before wrong tokens are slowed down (FailedAuthDelay).
	DefaultFailedAuthRate = Rate{Burst: 10, Every: 6 * time.Second}
	// DefaultFailedCodeRate allows 10 unknown setup codes at once and one
	// more a minute: a typo or two, never a search of the code space
	// (100 bits).
	DefaultFailedCodeRate = Rate{Burst: 10, Every: time.Minute}
)

const (
	// DefaultFailedAuthDelay is how long a wrong token's answer is held
	// back once its network's failure budget is spent.
	DefaultFailedAuthDelay = 3 * time.Second
	// DefaultMaxPendingPerPrefix is how many pending requests the nodes of
	// one network prefix may have waiting at once: a full default queue
	// (1,024) then takes 32 networks, and one IPv6 /64 cannot fill it.
	DefaultMaxPendingPerPrefix = 32
)

// Rate is a token bucket: Burst events at once, refilled one per Every.
// The zero value means the default; a negative Burst switches the limit off.
type Rate struct {
	Burst int
	Every time.Duration
}

// Config configures a Gateway. Zero values mean the defaults above.
type Config struct {
	// Store is the pairing store; the caller opens and closes it.
	Store *store.Store
	// OperatorToken is the shared secret operators present in auth.token.
	OperatorToken string
	// Logger receives structured logs (discarded when nil). Tokens are never
	// logged; every string is logged through protocol.Printable.
	Logger *slog.Logger
	// Now is the clock for signatures, events and rate limits (time.Now when
	// nil). Give the store the same clock.
	Now func() time.Time
	// Version is reported in hello-ok server.version.
	Version string

	// TickInterval between tick events; negative switches ticks off.
	TickInterval time.Duration
	// HandshakeTimeout bounds the time from open to a completed connect.
	HandshakeTimeout time.Duration
	// MaxPayload is the read limit after an operator's handshake
	// (policy.maxPayload).
	MaxPayload int64
	// NodeMaxPayload is the read limit after a node's handshake: a node
	// only ever sends node.pair.request, a few KiB, so a stranger's socket
	// cannot make the gateway buffer a megabyte.
	NodeMaxPayload int64
	// PreHandshakeLimit is the read limit before the handshake.
	PreHandshakeLimit int64
	// SendQueue is how many frames a connection may have waiting to be
	// written (at least 2); events beyond it are dropped for that
	// connection only.
	SendQueue int
	// MaxConns caps the open sockets (Serve only), and is lowered to fit
	// the process's file limit; a quarter of it is kept for operators and
	// paired nodes (admission.go).
	MaxConns int
	// MaxConnsPerPrefix caps the unauthenticated sockets (not through the
	// handshake, or unpaired nodes) of one network prefix; a newcomer over
	// it closes that network's oldest one.
	MaxConnsPerPrefix int
	// UnpairedGrace is how long an unpaired node may stay connected
	// without a pending request of its own (one that waits for a decision
	// stays until it is decided or expires, and this long after).
	UnpairedGrace time.Duration
	// WriteTimeout bounds one frame's write; a socket that stalls longer is
	// closed.
	WriteTimeout time.Duration
	// DeliveryWait is how long node.pair.approve waits for the waiting
	// node's socket to take its token before answering delivered:false.
	DeliveryWait time.Duration

	// RequestRate limits node.pair.request from nodes, per address.
	RequestRate Rate
	// FailedAuthRate is the budget of wrong tokens (operator or node) per
	// network prefix; once it is spent, further wrong tokens from there are
	// answered after FailedAuthDelay. Only failures count: a correct token
	// is compared first and never refused or delayed.
	FailedAuthRate Rate
	// FailedAuthDelay holds back the answer to a wrong token once its
	// network's budget is spent; negative: no delay.
	FailedAuthDelay time.Duration
	// FailedCodeRate is the budget of setup codes the gateway does not
	// know, per network prefix; once it is spent, requests with a code
	// from there are refused (RATE_LIMITED, with when to retry) before the
	// code is looked at. Requests without a code are not affected.
	FailedCodeRate Rate

	// PublicURL is the gateway URL nodes reach it at (ws:// or wss://), for
	// the setup links of pairdeck.codes.create when the listener's own
	// address will not do (0.0.0.0, a TLS proxy in front). Empty: the
	// listener's address when nodes can reach it over plain ws://
	// (loopback, private, link-local, CGNAT), else no link.
	PublicURL string
	// MaxPendingPerPrefix caps the pending requests nodes of one network
	// prefix may have waiting (their own requests; operators' are not
	// counted); over it a node's request is refused with QUEUE_FULL.
	// Negative: no cap.
	MaxPendingPerPrefix int
	// IPv4Prefix and IPv6Prefix are the prefix lengths limits are kept per
	// (defaults 32: each IPv4 address; 64: each IPv6 /64).
	IPv4Prefix int
	IPv6Prefix int

	// Pairing says how the pairing switch starts. The zero value keeps the
	// state last switched (remembered in access.json; on for a new state
	// dir); PairingOn and PairingOff switch it at start, and that is
	// remembered too. While off, nodes' requests are refused
	// (PAIRING_DISABLED) and paired nodes keep connecting.
	Pairing PairingStart
	// PairingDisabled is PairingOff, as a flag.
	PairingDisabled bool
	// PolicyDir holds policy.json (auto-approval rules, re-read when it
	// changes) and access.json (the pairing switch and the block list).
	// Default: <state>/pairdeck, beside the store's nodes/ dir.
	PolicyDir string

	// OnRequest is a shell command (run with /bin/sh -c) for every new
	// request that waits for an operator: the request arrives as one line
	// of JSON on stdin. It only notifies: its outcome decides nothing, its
	// failures are logged, and runs queue behind each other without ever
	// holding up the gateway (a full queue drops the notification, with a
	// log line). Empty: no command.
	OnRequest string
	// OnRequestTimeout bounds one run; then its process group is killed.
	OnRequestTimeout time.Duration
	// SecretEnv names environment variables the caller read secrets from
	// (besides OPENCLAW_GATEWAY_TOKEN and OPENCLAW_GATEWAY_PASSWORD, which
	// are always left out): the on-request command runs without them, and
	// without any variable whose value holds the operator token.
	SecretEnv []string
	// OriginPatterns lists extra browser origins allowed to connect; requests
	// with a foreign Origin header are refused by default.
	OriginPatterns []string
	// AllowedHosts are names besides localhost, 127.0.0.0/8 and ::1 that a
	// connection arriving on a loopback address may carry in its Host
	// header (with any port); others are refused with 403, against DNS
	// rebinding (hostcheck.go).
	AllowedHosts []string
}

// PairingStart is how Config.Pairing starts the pairing switch.
type PairingStart int

const (
	PairingRemembered PairingStart = iota // as last switched; on for a new state dir
	PairingOn
	PairingOff
)

// withDefaults fills zero values and checks what cannot be defaulted.
func (c Config) withDefaults() (Config, error) {
	if c.Store == nil {
		return c, errors.New("gateway: Config.Store is required (open one with store.Open)")
	}
	if c.OperatorToken == "" {
		return c, errors.New("gateway: Config.OperatorToken is required (see ResolveToken)")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	// Log lines quote what clients sent: every string in them is made
	// Printable, whatever handler writes them.
	c.Logger = slog.New(protocol.PrintableHandler(c.Logger.Handler()))
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.TickInterval == 0 {
		c.TickInterval = DefaultTickInterval
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.MaxPayload <= 0 {
		c.MaxPayload = DefaultMaxPayload
	}
	if c.NodeMaxPayload <= 0 {
		c.NodeMaxPayload = DefaultNodeMaxPayload
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.MaxConnsPerPrefix <= 0 {
		c.MaxConnsPerPrefix = DefaultMaxConnsPerPrefix
	}
	if c.UnpairedGrace <= 0 {
		c.UnpairedGrace = DefaultUnpairedGrace
	}
	if c.PreHandshakeLimit <= 0 {
		c.PreHandshakeLimit = DefaultPreHandshakeLimit
	}
	if c.SendQueue <= 0 {
		c.SendQueue = DefaultSendQueue
	}
	// Room for the challenge and hello-ok, which are queued before any
	// event could be.
	c.SendQueue = max(c.SendQueue, 2)
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.DeliveryWait <= 0 {
		c.DeliveryWait = DefaultDeliveryWait
	}
	if c.RequestRate == (Rate{}) {
		c.RequestRate = DefaultRequestRate
	}
	if c.FailedAuthRate == (Rate{}) {
		c.FailedAuthRate = DefaultFailedAuthRate
	}
	if c.FailedAuthDelay == 0 {
		c.FailedAuthDelay = DefaultFailedAuthDelay
	}
	if c.FailedCodeRate == (Rate{}) {
		c.FailedCodeRate = DefaultFailedCodeRate
	}
	if c.PublicURL != "" {
		u, err := checkPublicURL(c.PublicURL)
		if err != nil {
			return c, fmt.Errorf("gateway: public URL: %w", err)
		}
		c.PublicURL = u
	}
	if c.MaxPendingPerPrefix == 0 {
		c.MaxPendingPerPrefix = DefaultMaxPendingPerPrefix
	}
	if c.IPv4Prefix == 0 {
		c.IPv4Prefix = DefaultIPv4Prefix
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = DefaultIPv6Prefix
	}
	if c.IPv4Prefix < 8 || c.IPv4Prefix > 32 {
		return c, fmt.Errorf("gateway: IPv4 prefix /%d: want 8 to 32", c.IPv4Prefix)
	}
	if c.IPv6Prefix < 16 || c.IPv6Prefix > 128 {
		return c, fmt.Errorf("gateway: IPv6 prefix /%d: want 16 to 128", c.IPv6Prefix)
	}
	if c.PairingDisabled {
		c.Pairing = PairingOff
	}
	if c.PolicyDir == "" {
		c.PolicyDir = policy.Dir(filepath.Dir(c.Store.Dir()))
	}
	if c.OnRequestTimeout <= 0 {
		c.OnRequestTimeout = DefaultHookTimeout
	}
	return c, nil
}
