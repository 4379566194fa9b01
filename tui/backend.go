package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/pairdeck/pairdeck/protocol"
)

// Backend is everything the console needs from a gateway. The remote
// client and the gateway's in-process operator both implement it, so the
// console runs the same against a gateway in this process or across the
// network.
type Backend interface {
	List(ctx context.Context) (protocol.PairListResult, error)
	Nodes(ctx context.Context) (protocol.NodeListResult, error)
	Approve(ctx context.Context, requestID string) (protocol.ApproveResult, error)
	Reject(ctx context.Context, requestID string) (protocol.RejectResult, error)
	Rename(ctx context.Context, nodeID, name string) (protocol.RenameResult, error)
	Remove(ctx context.Context, nodeID string) (protocol.RemoveResult, error)
	Updates() <-chan protocol.Update
}

// PolicyBackend is a Backend that also serves pairdeck's own controls: the
// pairing switch, the block list and approval vouched for by a check. Both
// of pairdeck's backends implement it; with any other Backend the console
// simply offers none of those keys.
type PolicyBackend interface {
	Backend
	PairingStatus(ctx context.Context) (protocol.PairingState, error)
	SetPairing(ctx context.Context, on bool) (protocol.PairingState, error)
	Block(ctx context.Context, nodeID, name string) (protocol.BlockResult, error)
	Unblock(ctx context.Context, nodeID string) (protocol.UnblockResult, error)
	Blocked(ctx context.Context) (protocol.BlockListResult, error)
	AutoApprove(ctx context.Context, requestID, rule string) (protocol.ApproveResult, error)
}

// ReasonBackend is a Backend whose gateway keeps the operator's reason
// with a rejection and a block (pairdeck's): the console asks for one
// there (FeatureReasons).
type ReasonBackend interface {
	RejectWith(ctx context.Context, p protocol.RequestIDParams) (protocol.RejectResult, error)
	BlockWith(ctx context.Context, p protocol.BlockParams) (protocol.BlockResult, error)
}

// CodesBackend is a Backend whose gateway issues setup codes (pairdeck's):
// the console offers the Codes view there (FeatureCodes). ListCodes lists
// every code the gateway still keeps when all is set, else those that can
// still be used; never a secret, which only CreateCode's answer holds.
type CodesBackend interface {
	CreateCode(ctx context.Context, p protocol.CodeCreateParams) (protocol.CodeCreateResult, error)
	ListCodes(ctx context.Context, all bool) ([]protocol.SetupCode, error)
	RevokeCode(ctx context.Context, p protocol.CodeRevokeParams) (protocol.CodeRevokeResult, error)
}

// callTimeout bounds one backend call, so a gateway that stops answering
// shows up as an error flash rather than a row stuck in "approving…".
const callTimeout = 15 * time.Second

// Results of backend calls, delivered to Update.
type (
	// refreshedMsg carries a fresh node.pair.list and node.list.
	refreshedMsg struct {
		list     protocol.PairListResult
		listErr  error
		nodes    protocol.NodeListResult
		nodesErr error
		// policy is nil when the backend has no pairdeck controls.
		policy *policySnapshot
		// codes, from a backend with setup codes (codesAsked).
		codes      []protocol.SetupCode
		codesErr   error
		codesAsked bool
	}

	// decidedMsg carries the results of approving or rejecting one or
	// more requests. rule is set for approvals a check vouched for.
	decidedMsg struct {
		action  decision
		rule    string
		reason  string // the operator's, kept with the decision
		results []decisionResult
	}

	renamedMsg struct {
		nodeID string
		name   string
		err    error
	}

	removedMsg struct {
		nodeID string
		name   string
		err    error
	}

	// updateMsg is one update from the backend's subscription.
	updateMsg struct{ update protocol.Update }

	// updatesClosedMsg says the subscription ended (the backend closed).
	updatesClosedMsg struct{}
)

// decision is approve or reject.
type decision int

const (
	approve decision = iota
	reject
)

func (d decision) verb() string {
	if d == approve {
		return "approve"
	}
	return "reject"
}

func (d decision) past() string {
	if d == approve {
		return "approved"
	}
	return "rejected"
}

// key is the key that makes the decision, for messages.
func (d decision) key() string {
	k := DefaultKeyMap()
	return d.binding(&k).Help().Key
}

// binding is the decision's key in k.
func (d decision) binding(k *KeyMap) *key.Binding {
	if d == approve {
		return &k.Approve
	}
	return &k.Reject
}

func (d decision) busy() string {
	if d == approve {
		return "approving"
	}
	return "rejecting"
}

// decisionTarget names a request for the result messages, captured when the
// operator acted: the row may be gone by the time the answer comes back.
type decisionTarget struct {
	requestID string
	nodeID    string
	name      string
	kind      string // protocol.Kind*; "" on pairdeck's gateway
}

type decisionResult struct {
	decisionTarget
	approved protocol.ApproveResult
	err      error
}

// waitForUpdate blocks on the subscription for one update. Update re-arms it
// after every message, so exactly one read is pending at any time.
func waitForUpdate(ch <-chan protocol.Update) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		u, ok := <-ch
		if !ok {
			return updatesClosedMsg{}
		}
		return updateMsg{update: u}
	}
}

// policySnapshot is the pairing switch and the block list as listed.
type policySnapshot struct {
	pairing    protocol.PairingState
	pairingErr error
	blocked    []protocol.BlockedNode
	blockedErr error
}

// refreshCmd lists pending/paired requests and nodes — and, from a
// pairdeck gateway, the pairing switch and the block list — concurrently.
func refreshCmd(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		var msg refreshedMsg
		var wg sync.WaitGroup
		wg.Go(func() { msg.nodes, msg.nodesErr = b.Nodes(ctx) })
		if pb, ok := b.(PolicyBackend); ok {
			snap := &policySnapshot{}
			msg.policy = snap
			wg.Go(func() { snap.pairing, snap.pairingErr = pb.PairingStatus(ctx) })
			wg.Go(func() {
				var res protocol.BlockListResult
				res, snap.blockedErr = pb.Blocked(ctx)
				snap.blocked = res.Blocked
			})
		}
		if cb, ok := b.(CodesBackend); ok {
			msg.codesAsked = true
			wg.Go(func() { msg.codes, msg.codesErr = cb.ListCodes(ctx, true) })
		}
		msg.list, msg.listErr = b.List(ctx)
		wg.Wait()
		return msg
	}
}

// Results of the setup code calls.
type (
	codeCreatedMsg struct {
		res protocol.CodeCreateResult
		err error
	}
	codeRevokedMsg struct {
		id     string
		reason string
		res    protocol.CodeRevokeResult
		err    error
	}
)

// codesCall runs f on the backend's setup codes within callTimeout, or
// fails at once with errNoCodes.
func codesCall(ctx context.Context, b Backend, f func(ctx context.Context, cb CodesBackend) tea.Msg, fail func(error) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		cb, ok := b.(CodesBackend)
		if !ok {
			return fail(errNoCodes)
		}
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return f(ctx, cb)
	}
}

func createCodeCmd(ctx context.Context, b Backend, p protocol.CodeCreateParams) tea.Cmd {
	return codesCall(ctx, b, func(ctx context.Context, cb CodesBackend) tea.Msg {
		res, err := cb.CreateCode(ctx, p)
		return codeCreatedMsg{res: res, err: err}
	}, func(err error) tea.Msg { return codeCreatedMsg{err: err} })
}

func revokeCodeCmd(ctx context.Context, b Backend, id, reason string) tea.Cmd {
	return codesCall(ctx, b, func(ctx context.Context, cb CodesBackend) tea.Msg {
		res, err := cb.RevokeCode(ctx, protocol.CodeRevokeParams{ID: id, Reason: reason})
		return codeRevokedMsg{id: id, reason: reason, res: res, err: err}
	}, func(err error) tea.Msg { return codeRevokedMsg{id: id, reason: reason, err: err} })
}

// decisionsInFlight is how many calls of a bulk decision run at once: a
// few, so that a gateway with group commit writes them together (one
// rewrite of paired.json for several approvals), without hitting it with
// hundreds of concurrent calls.
const decisionsInFlight = 4

// decideCmd approves or rejects targets, decisionsInFlight at a time, and
// reports the results in the targets' order: the operator gets one summary
// when it is done.
func decideCmd(ctx context.Context, b Backend, action decision, rule, reason string, targets []decisionTarget) tea.Cmd {
	return func() tea.Msg {
		msg := decidedMsg{action: action, rule: rule, reason: reason, results: make([]decisionResult, len(targets))}
		pb, _ := b.(PolicyBackend)
		rb, _ := b.(ReasonBackend)
		slots := make(chan struct{}, decisionsInFlight)
		var wg sync.WaitGroup
		for i, t := range targets {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				res := decisionResult{decisionTarget: t}
				callCtx, cancel := context.WithTimeout(ctx, callTimeout)
				defer cancel()
				switch {
				case action == approve && rule != "" && pb != nil:
					res.approved, res.err = pb.AutoApprove(callCtx, t.requestID, rule)
				case action == approve && rule != "":
					res.err = errNoPolicy
				case action == approve:
					res.approved, res.err = b.Approve(callCtx, t.requestID)
				case reason != "" && rb != nil:
					_, res.err = rb.RejectWith(callCtx, protocol.RequestIDParams{RequestID: t.requestID, Reason: reason})
				case reason != "":
					res.err = errNoReasons
				default:
					_, res.err = b.Reject(callCtx, t.requestID)
				}
				msg.results[i] = res
			})
		}
		wg.Wait()
		return msg
	}
}

func renameCmd(ctx context.Context, b Backend, nodeID, name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		res, err := b.Rename(ctx, nodeID, name)
		if err == nil && res.DisplayName != "" {
			name = res.DisplayName
		}
		return renamedMsg{nodeID: nodeID, name: name, err: err}
	}
}

func removeCmd(ctx context.Context, b Backend, nodeID, name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		_, err := b.Remove(ctx, nodeID)
		return removedMsg{nodeID: nodeID, name: name, err: err}
	}
}

// errNoPolicy answers a pairdeck-only action on a backend without it.
var errNoPolicy = errors.New("this gateway has no pairing switch, block list or checked approval (it is not a pairdeck gateway)")

// Results of pairdeck's own controls.
type (
	pairingSetMsg struct {
		state protocol.PairingState
		err   error
	}

	blockedMsg struct {
		target blockTarget
		res    protocol.BlockResult
		err    error
	}

	unblockedMsg struct {
		nodeID string
		name   string
		res    protocol.UnblockResult
		err    error
	}

	// silentCheckedMsg is the outcome of the check behind silent approval.
	silentCheckedMsg struct{ err error }
)

// blockTarget names a node to block, captured when the operator asked.
type blockTarget struct {
	nodeID    string
	name      string
	requestID string // its pending request, rejected with the block
	reason    string // the operator's, kept with the block
}

// policyCall runs f on the backend's pairdeck controls within
// callTimeout, or fails at once with errNoPolicy.
func policyCall(ctx context.Context, b Backend, f func(ctx context.Context, pb PolicyBackend) tea.Msg, fail func(error) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		pb, ok := b.(PolicyBackend)
		if !ok {
			return fail(errNoPolicy)
		}
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return f(ctx, pb)
	}
}

func setPairingCmd(ctx context.Context, b Backend, on bool) tea.Cmd {
	return policyCall(ctx, b, func(ctx context.Context, pb PolicyBackend) tea.Msg {
		st, err := pb.SetPairing(ctx, on)
		return pairingSetMsg{state: st, err: err}
	}, func(err error) tea.Msg { return pairingSetMsg{err: err} })
}

func blockCmd(ctx context.Context, b Backend, t blockTarget) tea.Cmd {
	return policyCall(ctx, b, func(ctx context.Context, pb PolicyBackend) tea.Msg {
		var res protocol.BlockResult
		var err error
		switch rb, ok := pb.(ReasonBackend); {
		case t.reason == "":
			res, err = pb.Block(ctx, t.nodeID, t.name)
		case ok:
			res, err = rb.BlockWith(ctx, protocol.BlockParams{NodeID: t.nodeID, DisplayName: t.name, Reason: t.reason})
		default:
			err = errNoReasons
		}
		return blockedMsg{target: t, res: res, err: err}
	}, func(err error) tea.Msg { return blockedMsg{target: t, err: err} })
}

func unblockCmd(ctx context.Context, b Backend, nodeID, name string) tea.Cmd {
	return policyCall(ctx, b, func(ctx context.Context, pb PolicyBackend) tea.Msg {
		res, err := pb.Unblock(ctx, nodeID)
		return unblockedMsg{nodeID: nodeID, name: name, res: res, err: err}
	}, func(err error) tea.Msg { return unblockedMsg{nodeID: nodeID, name: name, err: err} })
}
