package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/protocol"
)

// A decision may carry the operator's reason (--reason), kept in the
// gateway's history with it. The remote client and the in-process operator
// both carry reasons (the client refuses, before sending, a reason for a
// gateway that keeps none). A reason that cannot be kept refuses the
// decision: it is never made without the word that was meant to go with it.

// reasonOperator is an operator that carries reasons.
type reasonOperator interface {
	ApproveWith(ctx context.Context, p protocol.RequestIDParams) (protocol.ApproveResult, error)
	RejectWith(ctx context.Context, p protocol.RequestIDParams) (protocol.RejectResult, error)
}

// blockReasonOperator is an operator whose blocks carry reasons.
type blockReasonOperator interface {
	BlockWith(ctx context.Context, p protocol.BlockParams) (protocol.BlockResult, error)
}

// reasonFlag registers --reason on cmd.
func reasonFlag(cmd *cobra.Command, reason *string, what string) {
	cmd.Flags().StringVar(reason, "reason", "", what+" (kept in the history; at most 512 bytes)")
}

// checkReasonFlag refuses a reason the gateway would refuse, before
// anything is sent (exit 2).
func checkReasonFlag(reason string) error {
	if err := protocol.CheckReason("--reason", reason); err != nil {
		return withCode(ExitUsage, err)
	}
	return nil
}

// noReasonHere explains a session that cannot keep a reason.
func noReasonHere(s *session) error {
	return fmt.Errorf("--reason: this session cannot keep a reason (%s): start a gateway (`pairdeck serve`) or decide without --reason", s.source())
}

func approveWithReason(ctx context.Context, s *session, id, reason string) (protocol.ApproveResult, error) {
	if reason == "" {
		return s.op.Approve(ctx, id)
	}
	op, ok := s.op.(reasonOperator)
	if !ok {
		return protocol.ApproveResult{}, noReasonHere(s)
	}
	return op.ApproveWith(ctx, protocol.RequestIDParams{RequestID: id, Reason: reason})
}

func rejectWithReason(ctx context.Context, s *session, id, reason string) (protocol.RejectResult, error) {
	if reason == "" {
		return s.op.Reject(ctx, id)
	}
	op, ok := s.op.(reasonOperator)
	if !ok {
		return protocol.RejectResult{}, noReasonHere(s)
	}
	return op.RejectWith(ctx, protocol.RequestIDParams{RequestID: id, Reason: reason})
}

func blockWithReason(ctx context.Context, s *session, op policyOperator, p protocol.BlockParams) (protocol.BlockResult, error) {
	if p.Reason == "" {
		return op.Block(ctx, p.NodeID, p.DisplayName)
	}
	rop, ok := s.op.(blockReasonOperator)
	if !ok {
		return protocol.BlockResult{}, noReasonHere(s)
	}
	return rop.BlockWith(ctx, p)
}
