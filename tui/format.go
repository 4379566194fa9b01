package tui

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// urgency is how close a pending request is to expiring.
type urgency int

const (
	calm     urgency = iota
	expiring         // under a minute: worth a look
	critical         // under ten seconds: act now or lose it
	expired          // past its expiry; the gateway has not said so yet
)

// Thresholds at which a countdown escalates.
const (
	expiringUnder = 60 * time.Second
	criticalUnder = 10 * time.Second
)

// countdown renders the time left as glyph + m:ss. Seconds are floored, so
// "0:00" means under a second left and the row flips to expired exactly at
// the expiry instant.
func countdown(left time.Duration) (string, urgency) {
	if left <= 0 {
		return glyphExpired + " expired", expired
	}
	secs := int64(left / time.Second)
	clock := clockText(secs)
	switch {
	case left < criticalUnder:
		return glyphCritical + " " + clock, critical
	case left < expiringUnder:
		return glyphExpiring + " " + clock, expiring
	default:
		return "  " + clock, calm
	}
}

func clockText(secs int64) string {
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// ago is a compact relative time that fits seven cells: "now", "42s ago",
// "5m ago".
func ago(d time.Duration) string {
	if d < 5*time.Second {
		return "now"
	}
	return span(d) + " ago"
}

// span is a duration in its largest whole unit: "42s", "5m", "3h", "2d".
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(max(d, 0)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
}

// whenText is an absolute time with its distance from now, for details.
func whenText(t, now time.Time) string {
	abs := t.In(now.Location()).Format("2006-01-02 15:04:05")
	d := now.Sub(t)
	if d >= 0 {
		return abs + " (" + ago(d) + ")"
	}
	return abs + " (in " + strings.TrimSpace(clockText(int64(-d/time.Second))) + ")"
}

// msTime turns a protocol millisecond timestamp into a time; 0 stays zero.
func msTime(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// shortID is the node id as an operator compares it with the device in
// hand; a node id from a gateway that checks nothing is escaped.
func shortID(nodeID string) string { return protocol.Printable(protocol.Fingerprint(nodeID)) }

// nameOr is a node's display name, or its short id when it has none.
func nameOr(name, nodeID string) string {
	if s := strings.TrimSpace(name); s != "" {
		return s
	}
	return shortID(nodeID)
}

// orDash shows an empty field as a dash, so a blank is not mistaken for a
// rendering fault.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func listText(items []string) string {
	if len(items) == 0 {
		return "—"
	}
	return strings.Join(items, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// errText is what an operator needs from a backend error: the gateway's own
// message ("missing scope: operator.admin") without the machine-readable
// reason code appended by protocol.Error.Error.
func errText(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Message != "" {
		return pe.Message
	}
	return err.Error()
}

// errReason is details.code of a gateway error, "" for anything else.
func errReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Reason()
	}
	return ""
}
