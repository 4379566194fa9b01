package tui

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// SilentCheck lets the console approve silent requests by itself once a
// check vouches for the operator — as the reference desktop app does after
// an SSH login to the gateway host. Without it (the default) every request
// waits for a key press.
type SilentCheck struct {
	// Rule names the check in the gateway's records: the approval's actor
	// is this console with this rule ("auto (rule ssh-check)").
	Rule string
	// What describes the check for messages: "ssh alice@gw.example.net".
	What string
	// Run makes the check; nil error means it passed. It runs off the UI
	// and is given at most silentCheckTimeout.
	Run func(ctx context.Context) error
}

const (
	// silentCheckTimeout bounds one check, whatever Run does.
	silentCheckTimeout = 10 * time.Second
	// silentTrustFor is how long a passed check vouches for later silent
	// requests without running again.
	silentTrustFor = 10 * time.Minute
	// silentRetryAfter keeps a failed check from running again for every
	// silent request of a burst.
	silentRetryAfter = 30 * time.Second
)

// silentState is where silent approval stands.
type silentState struct {
	running  bool
	okUntil  time.Time
	failedAt time.Time
	failure  string
	waiting  []decisionTarget // for the check in flight
	handled  map[string]bool  // request ids already considered
}

// considerSilent approves a silent request once the check has passed, or
// starts the check, or — when it cannot — leaves the request to the
// operator and says why. Each request is considered once.
func (m *Model) considerSilent(req protocol.PendingRequest) tea.Cmd {
	c := m.opts.SilentCheck
	if c == nil || !req.Silent || m.silent.handled[req.RequestID] {
		return nil
	}
	r, ok := m.pending.Get(req.RequestID)
	now := m.now()
	if !ok || !m.pending.decidable(r, now) {
		return nil
	}
	if m.silent.handled == nil {
		m.silent.handled = map[string]bool{}
	}
	m.silent.handled[req.RequestID] = true
	if protocol.DeclaresExec(req.Commands) {
		m.hold(r.target(), "declares exec-class commands: only a person approves those")
		return nil
	}
	if !m.features.offers(FeatureAutoApprove) {
		m.hold(r.target(), m.features.why(FeatureAutoApprove))
		return nil
	}
	switch {
	case now.Before(m.silent.okUntil):
		return m.approveSilently([]decisionTarget{r.target()})
	case !m.silent.failedAt.IsZero() && now.Sub(m.silent.failedAt) < silentRetryAfter:
		m.hold(r.target(), c.Rule+" failed "+ago(now.Sub(m.silent.failedAt))+": "+m.silent.failure)
		return nil
	}
	m.silent.waiting = append(m.silent.waiting, r.target())
	if m.silent.running {
		return nil
	}
	m.silent.running = true
	m.flash = infoFlash("Checking "+c.What+" before approving "+r.name()+"…", now)
	m.log.Info("silent request: running the check", "check", c.What, "requestId", req.RequestID)
	ctx, run := m.ctx, c.Run
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, silentCheckTimeout)
		defer cancel()
		return silentCheckedMsg{err: run(ctx)}
	}
}

// onSilentChecked approves what waited for a passed check, or leaves it
// to the operator with the reason.
func (m *Model) onSilentChecked(msg silentCheckedMsg) tea.Cmd {
	c := m.opts.SilentCheck
	now := m.now()
	waiting := m.silent.waiting
	m.silent.running, m.silent.waiting = false, nil
	var live []decisionTarget
	for _, t := range waiting {
		if r, ok := m.pending.Get(t.requestID); ok && m.pending.decidable(r, now) {
			live = append(live, t)
		}
	}
	if msg.err != nil {
		m.silent.failedAt, m.silent.failure = now, errText(msg.err)
		m.log.Warn("silent approval check failed", "check", c.What, "err", msg.err)
		names := make([]string, len(live))
		for i, t := range live {
			m.hold(t, c.Rule+" failed: "+m.silent.failure)
			names[i] = t.name
		}
		text := c.Rule + " failed (" + m.silent.failure + ")"
		switch len(names) {
		case 0:
		case 1:
			text += ": " + names[0] + " waits for your decision."
		default:
			text += ": " + strings.Join(names, ", ") + " wait for your decision."
		}
		m.flash = errorFlash(text, now)
		return nil
	}
	m.silent.okUntil, m.silent.failedAt = now.Add(silentTrustFor), time.Time{}
	m.log.Info("silent approval check passed", "check", c.What, "trusted for", silentTrustFor)
	return m.approveSilently(live)
}

// approveSilently approves with the check named as the rule.
func (m *Model) approveSilently(targets []decisionTarget) tea.Cmd {
	if len(targets) == 0 {
		return nil
	}
	for _, t := range targets {
		m.pending.SetBusy(t.requestID, approve.busy())
	}
	rule := m.opts.SilentCheck.Rule
	return m.call(func(b Backend) tea.Cmd { return decideCmd(m.ctx, b, approve, rule, "", targets) })
}

// hold notes in the activity log that a silent request was left for the
// operator, and why.
func (m *Model) hold(t decisionTarget, why string) {
	m.logOnce(happening{kind: hapHeld, id: t.requestID}, activityEntry{
		kind: actHeld, nodeID: t.nodeID, name: t.name, actor: m.opts.SilentCheck.Rule, note: why,
	})
}

// pruneSilent forgets requests that have left the queue.
func (m *Model) pruneSilent() {
	for id := range m.silent.handled {
		if _, ok := m.pending.Get(id); !ok {
			delete(m.silent.handled, id)
		}
	}
}
