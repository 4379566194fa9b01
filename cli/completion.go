package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
)

// Shell completion offers the pending requests (approve, reject) and the
// nodes (--node) of the gateway the command would act on. It asks a running
// gateway only: completing a word must never take the state dir's lock or
// write anything, and must answer at once, so with no gateway it offers
// nothing rather than wait.

// completionTimeout bounds the question to the gateway: a shell waits on it.
const completionTimeout = 2 * time.Second

// completionSession opens a session for completion, or nil.
func (n *nodesCmd) completionSession(cmd *cobra.Command) (*session, context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
	if n.conn.url == "" && os.Getenv("OPENCLAW_GATEWAY_URL") == "" {
		stateDir, err := n.g.resolveStateDir()
		if err != nil {
			cancel()
			return nil, nil, nil
		}
		if rt, err := gateway.ReadRuntime(stateDir); err != nil || !rt.Alive {
			cancel()
			return nil, nil, nil
		}
	}
	s, err := openSession(ctx, n.g, &n.conn, protocol.ActorCLI, liveAccess)
	if err != nil {
		cancel()
		return nil, nil, nil
	}
	return s, ctx, cancel
}

// completeRequests offers each pending request as its short id, described
// by its node, soonest to expire first.
func (n *nodesCmd) completeRequests(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	s, ctx, cancel := n.completionSession(cmd)
	if s == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	defer s.close()
	list, err := s.op.List(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return requestCompletions(list.Pending, time.Now()), cobra.ShellCompDirectiveNoFileComp
}

func requestCompletions(pending []protocol.PendingRequest, now time.Time) []cobra.Completion {
	ids := make([]string, len(pending))
	for i, r := range pending {
		ids[i] = r.RequestID
	}
	short := uniquePrefixes(ids, shortIDMin)
	out := make([]cobra.Completion, 0, len(pending))
	for i, r := range pending {
		desc := []string{nameOr(r.DisplayName, r.NodeID), protocol.Fingerprint(r.NodeID)}
		if r.Kind == protocol.KindDevice {
			desc = append(desc, kindText(r))
		}
		if r.RemoteIP != "" {
			desc = append(desc, r.RemoteIP)
		}
		if at, ok := r.ExpiresAt(); ok {
			desc = append(desc, "expires in "+countdown(now, at.UnixMilli()))
		}
		out = append(out, cobra.CompletionWithDesc(short[i], completionText(strings.Join(desc, " · "))))
	}
	return out
}

// completeNodes offers each node the gateway knows as its fingerprint,
// described by its name and address.
func (n *nodesCmd) completeNodes(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	s, ctx, cancel := n.completionSession(cmd)
	if s == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	defer s.close()
	cands, err := nodeCandidates(ctx, s.op)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	out := make([]cobra.Completion, 0, len(cands))
	for _, c := range cands {
		state := "not paired"
		if c.paired {
			state = "paired"
		}
		if c.requestID != "" {
			state += ", asking"
		}
		desc := fmt.Sprintf("%s · %s · %s", orDash(c.name), orDash(c.ip), state)
		out = append(out, cobra.CompletionWithDesc(protocol.Fingerprint(c.id), completionText(desc)))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completionText makes a description safe for the shell's menu: printable,
// and without the tab and newline cobra's protocol splits on.
func completionText(s string) string {
	return protocol.Printable(s)
}
