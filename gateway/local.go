package gateway

import (
	"context"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// LocalOperator is an operator session without a socket, for the console
// and the CLI running in the gateway's process. Its calls take the same
// dispatch path as a WebSocket operator's (holding every operator scope) and
// fail with the same *protocol.Error values; its Updates carry the same
// events, seq included, through the same non-blocking fan-out.
type LocalOperator struct {
	g    *Gateway
	sess *session
	sub  *subscriber

	updates  chan protocol.Update
	stopCh   chan struct{} // Close was called
	goneCh   chan struct{} // the gateway shut down
	goneOnce sync.Once
	stopOnce sync.Once
	pumpDone chan struct{}
}

// Local returns an in-process operator acting as actor (its Role defaults to
// "operator", its ClientID to "local"). Close it when done.
func (g *Gateway) Local(actor store.Actor) *LocalOperator {
	if actor.Role == "" {
		actor.Role = protocol.RoleOperator
	}
	if actor.ClientID == "" {
		actor.ClientID = "local"
	}
	sess := &session{
		connID: uuid.NewString(),
		role:   protocol.RoleOperator,
		scopes: slices.Clone(protocol.AllOperatorScopes),
		client: protocol.ClientInfo{ID: actor.ClientID, Mode: "local"},
		since:  g.cfg.Now(),
		actor:  actor,
		local:  true,
	}
	lo := &LocalOperator{
		g:        g,
		sess:     sess,
		sub:      newSubscriber(sess, g.cfg.SendQueue),
		updates:  make(chan protocol.Update, 1),
		stopCh:   make(chan struct{}),
		goneCh:   make(chan struct{}),
		pumpDone: make(chan struct{}),
	}
	lo.updates <- protocol.Update{StateChanged: true, State: protocol.Connected}

	g.mu.Lock()
	closing := g.closing
	if !closing {
		g.locals[lo] = struct{}{}
		g.fan.add(lo.sub, nil)
	}
	g.mu.Unlock()
	if closing {
		lo.sub.stop()
		lo.goneOnce.Do(func() { close(lo.goneCh) })
	}
	go lo.pump()
	return lo
}

// Updates delivers events, a Relist hint whenever seq shows a gap (the
// consumer fell behind and events were dropped), and a final Disconnected
// state when the gateway shuts down. It is closed after that, or by Close.
// The first update is the Connected state.
func (lo *LocalOperator) Updates() <-chan protocol.Update { return lo.updates }

// Close ends the session and closes Updates. It is idempotent.
func (lo *LocalOperator) Close() {
	lo.stopOnce.Do(func() {
		close(lo.stopCh)
		lo.sub.stop()
		lo.g.fan.remove(lo.sub)
		lo.g.mu.Lock()
		delete(lo.g.locals, lo)
		lo.g.mu.Unlock()
	})
	<-lo.pumpDone
}

// gatewayGone is called by Shutdown: the shutdown event is queued and the
// pump ends after delivering what is queued.
func (lo *LocalOperator) gatewayGone(ev protocol.ShutdownEvent) {
	lo.sub.offer(protocol.EventShutdown, protocol.MustMarshal(ev), nil)
	lo.sub.stop()
	lo.g.fan.remove(lo.sub)
	lo.goneOnce.Do(func() { close(lo.goneCh) })
}

// pump moves queued events to Updates. It blocks only on the consumer; while
// it does, the queue fills and the fan-out drops (and counts) events.
func (lo *LocalOperator) pump() {
	defer close(lo.pumpDone)
	defer close(lo.updates)
	var last uint64
	deliver := func(f *outFrame) bool {
		ev := f.event
		if ev.Seq != last+1 && !lo.send(protocol.Update{Relist: true}) {
			return false
		}
		last = ev.Seq
		return lo.send(protocol.Update{Event: ev})
	}
	for {
		select {
		case <-lo.stopCh:
			return
		case f := <-lo.sub.queue:
			if !deliver(f) {
				return
			}
		case <-lo.goneCh:
			for {
				select {
				case f := <-lo.sub.queue:
					if !deliver(f) {
						return
					}
					continue
				default:
				}
				break
			}
			lo.send(protocol.Update{StateChanged: true, State: protocol.Disconnected, Err: ErrShutdown})
			return
		}
	}
}

func (lo *LocalOperator) send(u protocol.Update) bool {
	select {
	case lo.updates <- u:
		return true
	case <-lo.stopCh:
		return false
	}
}

// call runs one method through the shared dispatch path.
func call[T any](ctx context.Context, lo *LocalOperator, method string, params any) (T, error) {
	var zero T
	select {
	case <-lo.stopCh:
		return zero, protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
			"this local operator session is closed; open a new one with Gateway.Local")
	default:
	}
	if !lo.g.enter() {
		return zero, shuttingDownError()
	}
	defer lo.g.work.Done()
	ctx, then := withFollowUps(ctx)
	result, perr := lo.g.dispatch(ctx, lo.sess, method, protocol.MustMarshal(params))
	then.run()
	if perr != nil {
		return zero, perr
	}
	if enc, ok := result.(encodedResult); ok {
		result = enc.value()
	}
	return result.(T), nil
}

// List is node.pair.list.
func (lo *LocalOperator) List(ctx context.Context) (protocol.PairListResult, error) {
	return call[protocol.PairListResult](ctx, lo, protocol.MethodPairList, struct{}{})
}

// Nodes is node.list.
func (lo *LocalOperator) Nodes(ctx context.Context) (protocol.NodeListResult, error) {
	return call[protocol.NodeListResult](ctx, lo, protocol.MethodNodeList, struct{}{})
}

// Approve is node.pair.approve; the result carries the new token.
func (lo *LocalOperator) Approve(ctx context.Context, requestID string) (protocol.ApproveResult, error) {
	return call[protocol.ApproveResult](ctx, lo, protocol.MethodPairApprove, protocol.RequestIDParams{RequestID: requestID})
}

// Reject is node.pair.reject.
func (lo *LocalOperator) Reject(ctx context.Context, requestID string) (protocol.RejectResult, error) {
	return call[protocol.RejectResult](ctx, lo, protocol.MethodPairReject, protocol.RequestIDParams{RequestID: requestID})
}

// Rename is node.rename.
func (lo *LocalOperator) Rename(ctx context.Context, nodeID, name string) (protocol.RenameResult, error) {
	return call[protocol.RenameResult](ctx, lo, protocol.MethodNodeRename, protocol.RenameParams{NodeID: nodeID, DisplayName: name})
}

// Remove is node.pair.remove; the node's sockets close with 4001.
func (lo *LocalOperator) Remove(ctx context.Context, nodeID string) (protocol.RemoveResult, error) {
	return call[protocol.RemoveResult](ctx, lo, protocol.MethodPairRemove, protocol.NodeIDParams{NodeID: nodeID})
}

// Verify is node.pair.verify.
func (lo *LocalOperator) Verify(ctx context.Context, nodeID, token string) (protocol.VerifyResult, error) {
	return call[protocol.VerifyResult](ctx, lo, protocol.MethodPairVerify, protocol.VerifyParams{NodeID: nodeID, Token: token})
}

// Request is node.pair.request made by an operator on a node's behalf.
func (lo *LocalOperator) Request(ctx context.Context, p protocol.PairRequestParams) (protocol.PairRequestResult, error) {
	return call[protocol.PairRequestResult](ctx, lo, protocol.MethodPairRequest, p)
}

// PairingStatus is pairdeck.pairing.get.
func (lo *LocalOperator) PairingStatus(ctx context.Context) (protocol.PairingState, error) {
	return call[protocol.PairingState](ctx, lo, protocol.MethodPairingGet, struct{}{})
}

// SetPairing is pairdeck.pairing.set: nodes' requests are refused while
// pairing is off.
func (lo *LocalOperator) SetPairing(ctx context.Context, on bool) (protocol.PairingState, error) {
	return call[protocol.PairingState](ctx, lo, protocol.MethodPairingSet, protocol.PairingSetParams{Enabled: &on})
}

// Block is pairdeck.block.add; the node's pending request is rejected.
func (lo *LocalOperator) Block(ctx context.Context, nodeID, name string) (protocol.BlockResult, error) {
	return call[protocol.BlockResult](ctx, lo, protocol.MethodBlockAdd, protocol.BlockParams{NodeID: nodeID, DisplayName: name})
}

// Unblock is pairdeck.block.remove.
func (lo *LocalOperator) Unblock(ctx context.Context, nodeID string) (protocol.UnblockResult, error) {
	return call[protocol.UnblockResult](ctx, lo, protocol.MethodBlockRemove, protocol.NodeIDParams{NodeID: nodeID})
}

// Blocked is pairdeck.block.list.
func (lo *LocalOperator) Blocked(ctx context.Context) (protocol.BlockListResult, error) {
	return call[protocol.BlockListResult](ctx, lo, protocol.MethodBlockList, struct{}{})
}

// AutoApprove is pairdeck.pair.autoApprove: an approval vouched for by a
// check (rule) this operator's client made.
func (lo *LocalOperator) AutoApprove(ctx context.Context, requestID, rule string) (protocol.ApproveResult, error) {
	return call[protocol.ApproveResult](ctx, lo, protocol.MethodPairAutoApprove, protocol.AutoApproveParams{RequestID: requestID, Rule: rule})
}

// ApproveWith is node.pair.approve with the operator's reason.
func (lo *LocalOperator) ApproveWith(ctx context.Context, p protocol.RequestIDParams) (protocol.ApproveResult, error) {
	return call[protocol.ApproveResult](ctx, lo, protocol.MethodPairApprove, p)
}

// RejectWith is node.pair.reject with the operator's reason.
func (lo *LocalOperator) RejectWith(ctx context.Context, p protocol.RequestIDParams) (protocol.RejectResult, error) {
	return call[protocol.RejectResult](ctx, lo, protocol.MethodPairReject, p)
}

// BlockWith is pairdeck.block.add with the operator's reason.
func (lo *LocalOperator) BlockWith(ctx context.Context, p protocol.BlockParams) (protocol.BlockResult, error) {
	return call[protocol.BlockResult](ctx, lo, protocol.MethodBlockAdd, p)
}

// CreateCode is pairdeck.codes.create: the result holds the secret, the
// one time it is shown.
func (lo *LocalOperator) CreateCode(ctx context.Context, p protocol.CodeCreateParams) (protocol.CodeCreateResult, error) {
	return call[protocol.CodeCreateResult](ctx, lo, protocol.MethodCodesCreate, p)
}

// ListCodes is pairdeck.codes.list: never a secret.
func (lo *LocalOperator) ListCodes(ctx context.Context, all bool) ([]protocol.SetupCode, error) {
	r, err := call[protocol.CodeListResult](ctx, lo, protocol.MethodCodesList, protocol.CodeListParams{All: all})
	return r.Codes, err
}

// RevokeCode is pairdeck.codes.revoke.
func (lo *LocalOperator) RevokeCode(ctx context.Context, p protocol.CodeRevokeParams) (protocol.CodeRevokeResult, error) {
	return call[protocol.CodeRevokeResult](ctx, lo, protocol.MethodCodesRevoke, p)
}
