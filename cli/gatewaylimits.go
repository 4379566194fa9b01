package cli

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/pairdeck/pairdeck/gateway"
)

// gatewayLimitFlags are the gateway's protections against strangers that
// an operator may tune (serve and the embedded console): the names a
// loopback listener answers to, and the network prefix and queue share
// limits are kept per.
type gatewayLimitFlags struct {
	allowHosts          []string
	ipv4Prefix          int
	maxPendingPerPrefix int
	maxConns            int
	maxConnsPerPrefix   int
	registered          bool // false: a command without these flags (demo): the defaults
}

func (f *gatewayLimitFlags) register(fl *pflag.FlagSet) {
	f.registered = true
	fl.StringArrayVar(&f.allowHosts, "allow-host", nil, "a name besides localhost, 127.0.0.0/8 and [::1] that connections on a loopback address may use in their Host header (repeatable; others are refused against DNS rebinding)")
	fl.IntVar(&f.ipv4Prefix, "ipv4-prefix", gateway.DefaultIPv4Prefix, "IPv4 prefix length rate limits and queue shares are kept per (IPv6: each /64)")
	fl.IntVar(&f.maxPendingPerPrefix, "max-pending-per-network", gateway.DefaultMaxPendingPerPrefix, "pending requests the nodes of one network (--ipv4-prefix, IPv6 /64) may have waiting at once")
	fl.IntVar(&f.maxConns, "max-conns", gateway.DefaultMaxConns, "cap on open connections (lowered to fit the file limit; a quarter is kept for operators and paired nodes)")
	fl.IntVar(&f.maxConnsPerPrefix, "max-conns-per-network", gateway.DefaultMaxConnsPerPrefix, "cap on one network's connections that have not authenticated (handshaking, unpaired nodes); a newcomer over it closes the oldest")
}

// limitFlagNames are the flags above, which configure only a gateway this
// process starts.
var limitFlagNames = []string{"allow-host", "ipv4-prefix", "max-pending-per-network", "max-conns", "max-conns-per-network"}

// check refuses values out of range.
func (f *gatewayLimitFlags) check() error {
	if !f.registered {
		return nil
	}
	for _, h := range f.allowHosts {
		if strings.TrimSpace(h) == "" || strings.ContainsAny(h, "/ ") {
			return usageError("--allow-host %q: want a host name, such as pairdeck.lan", h)
		}
	}
	if f.ipv4Prefix < 8 || f.ipv4Prefix > 32 {
		return usageError("--ipv4-prefix %d: want 8 to 32", f.ipv4Prefix)
	}
	if f.maxPendingPerPrefix < 1 {
		return usageError("--max-pending-per-network %d: want at least 1", f.maxPendingPerPrefix)
	}
	if f.maxConns < 64 || f.maxConns > 1<<20 {
		return usageError("--max-conns %d: want 64 to %d", f.maxConns, 1<<20)
	}
	if f.maxConnsPerPrefix < 1 {
		return usageError("--max-conns-per-network %d: want at least 1", f.maxConnsPerPrefix)
	}
	return nil
}

// apply sets the flags on cfg.
func (f *gatewayLimitFlags) apply(cfg *gateway.Config) {
	if !f.registered {
		return
	}
	cfg.AllowedHosts = f.allowHosts
	cfg.IPv4Prefix = f.ipv4Prefix
	cfg.MaxPendingPerPrefix = f.maxPendingPerPrefix
	cfg.MaxConns = f.maxConns
	cfg.MaxConnsPerPrefix = f.maxConnsPerPrefix
}
