package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// decisionFailed explains a failed approve or reject. The gateway's message
// already says whether the id was unknown, expired or already resolved
// (the store recalls decisions across restarts from its audit log) and
// names the node's current pending request if it has one; this only points
// at the command rather than the protocol method.
//
// OpenClaw gateways answer a stale id with exactly "unknown requestId" and
// remember nothing more (a request there ends decided, superseded by the
// node's newer one, or expired): that is said in words. pairdeck's gateway
// uses the same words for an id it never issued.
func decisionFailed(verb, requestID string, err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Message == "unknown requestId" && (pe.Details == nil || pe.Reason() == protocol.ReasonUnknownRequest) {
		return fmt.Errorf("%s %s: the gateway has no pending request %s (unknown requestId): it was decided, superseded by a newer request of its node, or expired; see `pairdeck nodes pending`",
			verb, requestID, requestID)
	}
	if !errors.As(err, &pe) || (pe.Reason() != protocol.ReasonUnknownRequest && pe.Reason() != protocol.ReasonAlreadyResolved) {
		return fmt.Errorf("%s %s: %w", verb, requestID, err)
	}
	msg := strings.Replace(pe.Error(), "node.pair.list shows the pending requests", "`pairdeck nodes pending` shows the pending requests", 1)
	return fmt.Errorf("%s %s: %s", verb, requestID, msg)
}
