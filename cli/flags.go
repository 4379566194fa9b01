package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// A flag value that cannot mean what was asked is a usage error (exit 2)
// that names the valid range; it is never replaced by a default.

// Ranges of the gateway's flags.
const (
	minTTL        = time.Second
	maxTTL        = 24 * time.Hour
	maxMaxPending = 1 << 20
)

// check refuses gateway flag values that cannot work: a request must live
// long enough to be seen, and the queue must hold at least one.
func (f *gatewayFlags) check() error {
	if f.ttl < minTTL || f.ttl > maxTTL {
		return usageError("--ttl %s: want a duration from %s to %s (for example 5m or 90s)", durationText(f.ttl), durationText(minTTL), durationText(maxTTL))
	}
	if f.maxPending < 1 || f.maxPending > maxMaxPending {
		return usageError("--max-pending %d: want a number from 1 to %d", f.maxPending, maxMaxPending)
	}
	if _, err := pairingStart(f.pairing); err != nil {
		return err
	}
	if _, err := f.ssh.listenAddr(); err != nil {
		return err
	}
	if _, err := f.storage(); err != nil {
		return err
	}
	return f.limits.check()
}

// embeddedOnly are the flags that configure a gateway this process starts:
// they mean nothing to a console that attaches to a running one.
var embeddedOnly = append([]string{"listen", "ttl", "max-pending", "pairing", "on-request", "public-url", "token-storage", "ssh", "ssh-authorized-keys"}, limitFlagNames...)

// refuseEmbeddedFlags refuses, with the reason, the flags that cannot
// apply because the console attaches to the gateway at url rather than
// starting one. why says why it attaches.
func refuseEmbeddedFlags(cmd *cobra.Command, url, why string, openclaw bool) error {
	var set []string
	for _, name := range embeddedOnly {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Changed {
			set = append(set, "--"+name)
		}
	}
	if len(set) == 0 {
		return nil
	}
	verb := "configures"
	if len(set) > 1 {
		verb = "configure"
	}
	fix := fmt.Sprintf("set %s on that gateway's `pairdeck serve`", pronoun(len(set)))
	if openclaw {
		fix = "that gateway's own configuration (openclaw.json) holds such settings"
	}
	return usageError("%s %s a gateway this console starts, but it attaches to the gateway at %s (%s): %s, or drop %s",
		strings.Join(set, ", "), verb, url, why, fix, pronoun(len(set)))
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// checkDuration refuses a duration outside [lo, hi], naming the flag.
func checkDuration(name string, d, lo, hi time.Duration) error {
	if d < lo || d > hi {
		return usageError("--%s %s: want a duration from %s to %s", name, durationText(d), durationText(lo), durationText(hi))
	}
	return nil
}

// checkCount refuses a number outside [lo, hi], naming the flag.
func checkCount(name string, n, lo, hi int) error {
	if n < lo || n > hi {
		return usageError("--%s %d: want a number from %d to %d", name, n, lo, hi)
	}
	return nil
}

// durationText is d as a person writes it: 24h, 5m, 1m30s, 1ms.
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
