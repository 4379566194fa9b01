package tui

import (
	"context"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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
	}

	// decidedMsg carries the results of approving or rejecting one or
	// more requests.
	decidedMsg struct {
		action  decision
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

// refreshCmd lists pending/paired requests and nodes concurrently.
func refreshCmd(ctx context.Context, b Backend) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		var msg refreshedMsg
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg.nodes, msg.nodesErr = b.Nodes(ctx)
		}()
		msg.list, msg.listErr = b.List(ctx)
		wg.Wait()
		return msg
	}
}

// decideCmd approves or rejects targets one after another: a bulk action
// should not hit the gateway with hundreds of concurrent calls, and the
// operator gets one summary when it is done.
func decideCmd(ctx context.Context, b Backend, action decision, targets []decisionTarget) tea.Cmd {
	return func() tea.Msg {
		msg := decidedMsg{action: action, results: make([]decisionResult, 0, len(targets))}
		for _, t := range targets {
			res := decisionResult{decisionTarget: t}
			callCtx, cancel := context.WithTimeout(ctx, callTimeout)
			if action == approve {
				res.approved, res.err = b.Approve(callCtx, t.requestID)
			} else {
				_, res.err = b.Reject(callCtx, t.requestID)
			}
			cancel()
			msg.results = append(msg.results, res)
		}
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
