package cli

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/protocol"
)

// wholeNodeID is a device id: a node that never asked can still be blocked
// by its full id.
var wholeNodeID = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

func (n *nodesCmd) blockCmd() *cobra.Command {
	var query, name, reason string
	cmd := &cobra.Command{
		Use:   "block --node <id|name|ip>",
		Short: "Refuse a node's pairing requests for good (its pending request is rejected)",
		Long: `Put a node on the gateway's block list. Its pending request, if any, is
rejected now; its future requests are refused at once with BLOCKED, never
enter the queue, and are counted (see "nodes blocked"). A paired node stays
paired: remove it as well to cut it off. --node takes what rename takes, or a
full node id that the gateway has never seen.`,
		Example: `  pairdeck nodes block --node 192.168.1.66 --reason "asked 400 times overnight"
  pairdeck nodes block --node c8cf3b318f965532d8f389c41756d48469d877e551bf24bcb67e55e182442e88 --name "door spammer"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if query == "" {
				return usageError("block needs --node")
			}
			if err := checkReasonFlag(reason); err != nil {
				return err
			}
			return n.run(cmd, writeAccess, func(ctx context.Context, s *session, p *printer) error {
				op, err := policyOp(s)
				if err != nil {
					return err
				}
				id, err := resolveNode(ctx, s.op, query)
				if err != nil {
					if !wholeNodeID.MatchString(strings.TrimSpace(query)) {
						return err
					}
					id = strings.ToLower(strings.TrimSpace(query))
				}
				res, err := blockWithReason(ctx, s, op, protocol.BlockParams{NodeID: id, DisplayName: name, Reason: reason})
				if err != nil {
					return pairdeckOnly(s, "block list", err)
				}
				if p.json {
					return p.JSON(res)
				}
				who := blockedName(res.Node)
				switch {
				case !res.Created:
					p.Line("%s was already blocked.", who)
				case res.RejectedRequestID != "":
					p.Line("Blocked %s; its pending request %s was rejected. Its requests are refused from now on.", who, res.RejectedRequestID)
				default:
					p.Line("Blocked %s. Its requests are refused from now on.", who)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&query, "node", "", "node id, IP, display name, id prefix (≥6 chars), or a full node id")
	cmd.Flags().StringVar(&name, "name", "", "label for the block list (default: the node's name)")
	reasonFlag(cmd, &reason, "why it is blocked")
	return cmd
}

func (n *nodesCmd) unblockCmd() *cobra.Command {
	var query string
	cmd := &cobra.Command{
		Use:     "unblock --node <id|name|ip>",
		Short:   "Take a node off the block list: it may ask to pair again",
		Example: `  pairdeck nodes unblock --node "door spammer"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if query == "" {
				return usageError("unblock needs --node")
			}
			return n.run(cmd, writeAccess, func(ctx context.Context, s *session, p *printer) error {
				op, err := policyOp(s)
				if err != nil {
					return err
				}
				list, err := op.Blocked(ctx)
				if err != nil {
					return pairdeckOnly(s, "block list", err)
				}
				cands := make([]nodeCandidate, 0, len(list.Blocked))
				for _, b := range list.Blocked {
					cands = append(cands, nodeCandidate{id: b.NodeID, name: b.DisplayName, ip: b.LastRemoteIP})
				}
				c, err := pickNode(cands, query)
				if err != nil {
					return fmt.Errorf("%w (among the blocked nodes: pairdeck nodes blocked)", err)
				}
				res, err := op.Unblock(ctx, c.id)
				if err != nil {
					return fmt.Errorf("unblock %s: %w", query, err)
				}
				if p.json {
					return p.JSON(res)
				}
				p.Line("Unblocked %s (refused %s while blocked). It may ask to pair again.", blockedName(res.Node), plural(res.Node.Attempts, "time"))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&query, "node", "", "node id, name, last IP or id prefix (≥6 chars) of a blocked node")
	return cmd
}

func (n *nodesCmd) blockedCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "blocked",
		Short: "Show the block list with each node's refused attempts",
		Example: `  pairdeck nodes blocked
  pairdeck nodes blocked --json | jq '.blocked[] | select(.attempts > 100)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return n.run(cmd, readAccess, func(ctx context.Context, s *session, p *printer) error {
				op, err := policyOp(s)
				if err != nil {
					return err
				}
				res, err := op.Blocked(ctx)
				if err != nil {
					return pairdeckOnly(s, "block list", err)
				}
				if p.json {
					res.Blocked = nonNil(res.Blocked)
					return p.JSON(res)
				}
				p.Line("Blocked: %d", len(res.Blocked))
				if len(res.Blocked) == 0 {
					return nil
				}
				now := time.Now()
				p.Table(blockedColumns, blockedRows(res.Blocked, now))
				return nil
			})
		},
	}
}

func blockedName(b protocol.BlockedNode) string {
	if b.DisplayName != "" {
		return fmt.Sprintf("%s (%s)", b.DisplayName, protocol.Fingerprint(b.NodeID))
	}
	return protocol.Fingerprint(b.NodeID)
}
