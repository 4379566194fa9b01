package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// nodesCmd holds what every `nodes` subcommand shares.
type nodesCmd struct {
	g      *globals
	conn   connFlags
	asJSON bool
}

func newNodesCmd(g *globals) *cobra.Command {
	n := &nodesCmd{g: g}
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "List, approve, reject, rename and remove nodes (scriptable)",
		Long: `Operator commands for scripts and terminals.

They act on the gateway running for the state dir; else on --url
(or $OPENCLAW_GATEWAY_URL) with the operator token from --token-file (or
$OPENCLAW_GATEWAY_TOKEN); else,
when no gateway runs at all, directly on the state dir under its lock, with
the same output and expiry rules. Every command takes --json for a stable
machine-readable result on stdout; errors go to stderr.

Exit codes: 0 ok, 1 failed, 2 usage, 124 timed out, 130 interrupted.`,
		Example: `  pairdeck nodes pending
  pairdeck nodes approve "$(pairdeck nodes pending --json | jq -r '.[0].requestId')"
  pairdeck nodes status --url wss://gw.example.net:18789 --token-file ~/.config/pairdeck/gw-token`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	n.conn.register(cmd)
	cmd.PersistentFlags().BoolVar(&n.asJSON, "json", false, "print the result as JSON")
	cmd.AddCommand(n.pendingCmd(), n.approveCmd(), n.rejectCmd(), n.statusCmd(),
		n.renameCmd(), n.removeCmd(), n.listCmd(), n.verifyCmd(),
		n.blockCmd(), n.unblockCmd(), n.blockedCmd(), n.historyCmd())
	return cmd
}

// run opens a session, runs fn with a printer, and closes the session.
func (n *nodesCmd) run(cmd *cobra.Command, acc access, fn func(ctx context.Context, s *session, p *printer) error) error {
	ctx := cmd.Context()
	s, err := openSession(ctx, n.g, &n.conn, protocol.ActorCLI, acc)
	if err != nil {
		return err
	}
	defer s.close()
	p := newPrinter(cmd.OutOrStdout(), n.asJSON)
	return tellSource(n.g, s, p, cmd.ErrOrStderr(), acc == liveAccess, func() error { return fn(ctx, s, p) })
}

// openClawGateway reports whether op talks to a gateway other than
// pairdeck's (OpenClaw's): only pairdeck's serves methods in its own
// namespace.
func openClawGateway(op operator) bool {
	c, ok := op.(*client.Client)
	if !ok {
		return false
	}
	return !slices.ContainsFunc(c.Hello().Features.Methods, func(m string) bool { return strings.HasPrefix(m, "pairdeck.") })
}

// supports returns nil if the gateway offers capability, else a one-line
// error saying it does not and what that means (client.UnsupportedError).
// The in-process gateway offers everything.
func supports(op operator, capability client.Capability) error {
	if s, ok := op.(interface{ Supports(client.Capability) error }); ok {
		return s.Supports(capability)
	}
	return nil
}

// withExtra encodes each record with the keys its gateway sent that
// pairdeck does not model, so --json keeps every field.
func withExtra[T any](records []T, extra func(T) map[string]json.RawMessage) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, 0, len(records))
	for _, r := range records {
		data, err := protocol.MarshalWithExtra(r, extra(r))
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func pendingExtra(r protocol.PendingRequest) map[string]json.RawMessage { return r.Extra }
func pairedExtra(n protocol.PairedNode) map[string]json.RawMessage      { return n.Extra }
func nodeInfoExtra(n protocol.NodeInfo) map[string]json.RawMessage      { return n.Extra }

func (n *nodesCmd) pendingCmd() *cobra.Command {
	var watch, count bool
	cmd := &cobra.Command{
		Use:   "pending",
		Short: "Show requests waiting for a decision",
		Long: `Show pending pairing requests, newest first.

--count prints only the number (for a tmux status line). --watch prints the
current requests and then every change until interrupted, as kubectl get -w
does: one readable line each, on a terminal or piped; one JSON object per
line (NDJSON) only with --json (docs/cli-json.md).`,
		Example: `  pairdeck nodes pending
  pairdeck nodes pending --json | jq -r '.[].requestId'
  pairdeck nodes pending --count
  pairdeck nodes pending --watch
  pairdeck nodes pending --watch --json | jq -c 'select(.event == "node.pair.requested")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if watch && count {
				return usageError("--watch and --count cannot be combined")
			}
			acc := readAccess
			if watch {
				acc = liveAccess
			}
			return n.run(cmd, acc, func(ctx context.Context, s *session, p *printer) error {
				if watch {
					return watchPending(ctx, s, p, cmd.ErrOrStderr())
				}
				res, err := s.op.List(ctx)
				if err != nil {
					return fmt.Errorf("list pending: %w", err)
				}
				switch {
				case count:
					p.bare = true
					p.Line("%d", len(res.Pending))
					return nil
				case p.json:
					recs, err := withExtra(res.Pending, pendingExtra)
					if err != nil {
						return err
					}
					return p.JSON(recs)
				}
				printPending(p, res.Pending, time.Now())
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow changes until interrupted (readable lines; NDJSON with --json)")
	cmd.Flags().BoolVar(&count, "count", false, "print only the number of pending requests")
	return cmd
}

func (n *nodesCmd) approveCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "approve <request>",
		Short: "Approve a pending request (prints the node's new token once, where there is one)",
		Long: `Approve a pending request, of either kind.

A pairdeck gateway mints a new token for the node: it is sent to the
waiting node directly, and printed here exactly once. OpenClaw gateways of
2026.8 and later issue none: the node keeps signing in with its device
token, and a device request's device gets its token when it next connects;
the output says so.

` + requestArgHelp,
		Example: `  pairdeck nodes approve 44a1f673
  pairdeck nodes approve "Living Room iPad"
  pairdeck nodes approve fa35:8533:0780 --reason "new build box, ticket 4411"
  pairdeck nodes approve "$(pairdeck nodes pending --json | jq -r '.[0].requestId')"`,
		Args:              exactArgs(1, "a request: its id (or a prefix), or the node's name, fingerprint or IP (see `pairdeck nodes pending`)"),
		ValidArgsFunction: n.completeRequests,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkReasonFlag(reason); err != nil {
				return err
			}
			return n.run(cmd, writeAccess, func(ctx context.Context, s *session, p *printer) error {
				id, err := resolveRequest(ctx, s.op, args[0])
				if err != nil {
					return err
				}
				res, err := approveWithReason(ctx, s, id, reason)
				if err != nil {
					return decisionFailed("approve", id, err)
				}
				if p.json {
					node, err := protocol.MarshalWithExtra(res.Node, res.Node.Extra)
					if err != nil {
						return err
					}
					// The wire result omits a false "delivered"; the
					// documented CLI schema always has it.
					return p.JSON(approveJSON{RequestID: res.RequestID, Node: node, Delivered: res.Delivered,
						Kind: res.Kind, NoToken: res.NoToken, Device: res.Device})
				}
				printApproved(p, res)
				return nil
			})
		},
	}
	reasonFlag(cmd, &reason, "why it is approved")
	return cmd
}

// printApproved says what an approval did. Only a gateway that issues node
// tokens shows one (once); where none was issued it says what happens
// instead, and never prints an empty token or asks to pass one on.
func printApproved(p *printer, res protocol.ApproveResult) {
	name := nameOr(res.Node.DisplayName, res.Node.NodeID)
	fp := protocol.Fingerprint(res.Node.NodeID)
	switch {
	case res.NoToken == protocol.NoTokenDeviceApproval:
		what := ""
		if d := res.Device; d != nil {
			what = deviceGrant(*d)
		}
		p.Line("Approved device %s (%s)%s, request %s: the device gets its token from the gateway when it next connects.", name, fp, what, res.RequestID)
		return
	case res.NoToken != "" || res.Node.Token == "":
		p.Line("Approved %s (%s), request %s: its commands are approved, and the node continues with its device token.", name, fp, res.RequestID)
		printGranted(p, res.Node)
		return
	}
	p.Line("Approved %s (%s), request %s.", name, fp, res.RequestID)
	printGranted(p, res.Node)
	p.Line("Token (shown once, it will not be shown again):")
	p.Line("  %s", res.Node.Token)
	switch {
	case res.Kind != "":
		// OpenClaw up to 2026.7 issues a node token its nodes do not sign
		// in with: they use the device token the gateway gave them.
		p.Line("This gateway's nodes sign in with their device token; this node token is for `pairdeck nodes verify`.")
	case res.Delivered:
		p.Line("The waiting node received it directly.")
	default:
		p.Line("The node was not waiting for it: pass it on, and on the node run `pairdeck node connect --token-file FILE` with the token in FILE (- reads it from stdin).")
	}
}

// printGranted lists what an approved node may use, when the gateway says.
func printGranted(p *printer, n protocol.PairedNode) {
	if len(n.Commands) > 0 {
		p.Line("  commands     %s", strings.Join(n.Commands, ", "))
	}
	if granted := n.Permissions.Granted(); len(granted) > 0 {
		p.Line("  permissions  %s", strings.Join(granted, ", "))
	}
}

// deviceGrant says what an approved device may now do: " as node", " as
// operator (operator.read, operator.write)".
func deviceGrant(d protocol.PairedDevice) string {
	roles := d.Roles
	if len(roles) == 0 && d.Role != "" {
		roles = []string{d.Role}
	}
	if len(roles) == 0 {
		return ""
	}
	s := " as " + strings.Join(roles, " and ")
	if len(d.Scopes) > 0 {
		s += " (" + strings.Join(d.Scopes, ", ") + ")"
	}
	return s
}

// requestArgHelp says what names a request, for approve and reject.
const requestArgHelp = `The request is named by its id or a unique prefix of it (at least 4
characters; the table shows 8), or by its node as --node names one: node id,
IP, display name (case and spacing ignored), fingerprint (fa35:8533:0780) or
id prefix (at least 6 characters). A name that fits more than one request is
refused with the candidates listed.`

// approveJSON is `nodes approve --json`'s result (docs/cli-json.md).
type approveJSON struct {
	RequestID string                 `json:"requestId"`
	Node      json.RawMessage        `json:"node"`
	Delivered bool                   `json:"delivered"`
	Kind      string                 `json:"kind,omitempty"`
	NoToken   string                 `json:"noToken,omitempty"`
	Device    *protocol.PairedDevice `json:"device,omitempty"`
}

func (n *nodesCmd) rejectCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "reject <request>",
		Short: "Reject a pending request",
		Long:  "Reject a pending request.\n\n" + requestArgHelp,
		Example: `  pairdeck nodes reject c6136c3d
  pairdeck nodes reject 192.168.1.66 --reason "not one of ours"`,
		Args:              exactArgs(1, "a request: its id (or a prefix), or the node's name, fingerprint or IP (see `pairdeck nodes pending`)"),
		ValidArgsFunction: n.completeRequests,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkReasonFlag(reason); err != nil {
				return err
			}
			return n.run(cmd, writeAccess, func(ctx context.Context, s *session, p *printer) error {
				id, err := resolveRequest(ctx, s.op, args[0])
				if err != nil {
					return err
				}
				res, err := rejectWithReason(ctx, s, id, reason)
				if err != nil {
					return decisionFailed("reject", id, err)
				}
				if p.json {
					return p.JSON(res)
				}
				if res.Kind == protocol.KindDevice {
					p.Line("Rejected device pairing request %s (device %s).", res.RequestID, protocol.Fingerprint(res.NodeID))
				} else {
					p.Line("Rejected request %s (node %s).", res.RequestID, protocol.Fingerprint(res.NodeID))
				}
				return nil
			})
		},
	}
	reasonFlag(cmd, &reason, "why it is rejected")
	return cmd
}

func (n *nodesCmd) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show paired and connected nodes and their capabilities",
		Example: `  pairdeck nodes status
  pairdeck nodes status --json | jq '.nodes[] | select(.connected)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return n.run(cmd, readAccess, func(ctx context.Context, s *session, p *printer) error {
				res, err := s.op.Nodes(ctx)
				if err != nil {
					return fmt.Errorf("node status: %w", err)
				}
				if p.json {
					nodes, err := withExtra(res.Nodes, nodeInfoExtra)
					if err != nil {
						return err
					}
					return p.JSON(statusJSON{TS: res.TS, Nodes: nodes})
				}
				var approval map[string]string
				if openClawGateway(s.op) {
					// Paired there means the device is: whether the
					// node's commands were approved is another matter.
					list, err := s.op.List(ctx)
					if err != nil {
						return fmt.Errorf("node status: %w", err)
					}
					approval = approvalStates(res.Nodes, &list)
				}
				printStatus(p, res.Nodes, approval, time.Now())
				return nil
			})
		},
	}
}

// statusJSON is `nodes status --json`'s result.
type statusJSON struct {
	TS    int64             `json:"ts"`
	Nodes []json.RawMessage `json:"nodes"`
}

func (n *nodesCmd) renameCmd() *cobra.Command {
	var query, name string
	cmd := &cobra.Command{
		Use:   "rename --node <id|name|ip> --name <name>",
		Short: "Rename a paired or pending node",
		Long: `Give a node a display name. --node accepts, in this order of precedence, an
exact node id, an exact IP, a display name (case and spacing ignored), or
the fingerprint every list shows (fa35:8533:0780) or an id prefix of at least
6 characters. An operator's name survives re-approval.`,
		Example: `  pairdeck nodes rename --node 192.168.1.20 --name "Living Room iPad"
  pairdeck nodes rename --node c8cf3b --name kitchen`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if query == "" || name == "" {
				return usageError("rename needs --node and --name")
			}
			return n.run(cmd, writeAccess, func(ctx context.Context, s *session, p *printer) error {
				id, err := resolveNode(ctx, s.op, query)
				if err != nil {
					return err
				}
				res, err := s.op.Rename(ctx, id, name)
				if err != nil {
					return fmt.Errorf("rename %s: %w", query, err)
				}
				if p.json {
					return p.JSON(res)
				}
				p.Line("Renamed %s to %q.", protocol.Fingerprint(res.NodeID), res.DisplayName)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&query, "node", "", "node id, IP, display name, fingerprint or id prefix (≥6 chars)")
	cmd.Flags().StringVar(&name, "name", "", "new display name")
	cmd.RegisterFlagCompletionFunc("node", n.completeNodes)
	return cmd
}

func (n *nodesCmd) removeCmd() *cobra.Command {
	var query string
	cmd := &cobra.Command{
		Use:     "remove --node <id|name|ip>",
		Short:   "Unpair a node (its live connections are closed)",
		Example: `  pairdeck nodes remove --node "Living Room iPad"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if query == "" {
				return usageError("remove needs --node")
			}
			return n.run(cmd, writeAccess, func(ctx context.Context, s *session, p *printer) error {
				if err := supports(s.op, client.CapRemove); err != nil {
					return err
				}
				id, err := resolveNode(ctx, s.op, query)
				if err != nil {
					return err
				}
				res, err := s.op.Remove(ctx, id)
				if err != nil {
					return fmt.Errorf("remove %s: %w", query, err)
				}
				if p.json {
					return p.JSON(res)
				}
				p.Line("Removed node %s.", protocol.Fingerprint(res.NodeID))
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&query, "node", "", "node id, IP, display name, fingerprint or id prefix (≥6 chars)")
	cmd.RegisterFlagCompletionFunc("node", n.completeNodes)
	return cmd
}

func (n *nodesCmd) listCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "Show pending requests and paired nodes together",
		Example: `  pairdeck nodes list --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return n.run(cmd, readAccess, func(ctx context.Context, s *session, p *printer) error {
				res, err := s.op.List(ctx)
				if err != nil {
					return fmt.Errorf("list: %w", err)
				}
				if p.json {
					pending, err := withExtra(res.Pending, pendingExtra)
					if err != nil {
						return err
					}
					paired, err := withExtra(res.Paired, pairedExtra)
					if err != nil {
						return err
					}
					return p.JSON(listJSON{Pending: pending, Paired: paired})
				}
				now := time.Now()
				p.Line("Pending: %d · Paired: %d", len(res.Pending), len(res.Paired))
				printPending(p, res.Pending, now)
				if len(res.Paired) > 0 {
					p.Line("")
					p.Table(pairedColumns, pairedRows(res.Paired, now))
				}
				return nil
			})
		},
	}
}

// listJSON is `nodes list --json`'s result.
type listJSON struct {
	Pending []json.RawMessage `json:"pending"`
	Paired  []json.RawMessage `json:"paired"`
}

func (n *nodesCmd) verifyCmd() *cobra.Command {
	var query string
	var nodeTok tokenFlags
	cmd := &cobra.Command{
		Use:   "verify --node <id|name|ip> [--token-file FILE]",
		Short: "Check a node's token (exit 1 if it does not verify)",
		Long: `Check that a token is the current one of a paired node.

The node's token is read from --token-file (- for stdin), else from stdin
when it is a pipe, else typed at a prompt that does not echo it. (--token
also works but is ` + tokenFlagHelp + `.) Here --token-file and --token are the node's token, not the
operator token: the operator token that authorises the check comes from
$OPENCLAW_GATEWAY_TOKEN, else the state dir.

--node takes what rename takes. A node that does not exist, or is not
paired, is told apart from a token that does not verify.`,
		Example: `  pairdeck nodes verify --node kitchen --token-file ./node-token
  pairdeck nodes verify --node fa35:8533:0780 < ./node-token
  OPENCLAW_GATEWAY_TOKEN="$(cat op-token)" pairdeck nodes verify --url wss://gw:18789 --node kitchen --token-file ./node-token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if query == "" {
				return usageError("verify needs --node")
			}
			// A token typed at a prompt is asked for once the gateway is
			// known to verify tokens at all.
			token, prompt, err := nodeToken(cmd, &nodeTok)
			if err != nil {
				return err
			}
			return n.run(cmd, readAccess, func(ctx context.Context, s *session, p *printer) error {
				if err := supports(s.op, client.CapVerify); err != nil {
					return err
				}
				if prompt != nil {
					if token, err = prompt(); err != nil {
						return err
					}
				}
				c, err := resolveCandidate(ctx, s.op, query)
				if err != nil {
					return err
				}
				if !c.paired {
					return fmt.Errorf("%s is not paired, so it has no token to verify: see `pairdeck nodes pending`", c.label())
				}
				res, err := s.op.Verify(ctx, c.id, token)
				if err != nil {
					return fmt.Errorf("verify %s: %w", c.label(), err)
				}
				if p.json {
					if err := p.JSON(res); err != nil {
						return err
					}
				} else if res.OK {
					p.Line("Token is valid for %s.", c.label())
				}
				if !res.OK {
					if p.json {
						return withCode(ExitFailed, errSilent)
					}
					return fmt.Errorf("token does not verify for %s (%s): it is not the node's current token", c.label(), c.id)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&query, "node", "", "node id, IP, display name, fingerprint or id prefix (≥6 chars)")
	cmd.Flags().StringVar(&nodeTok.file, "token-file", "", "read the node's token from this file (- reads stdin)")
	cmd.Flags().StringVar(&nodeTok.token, "token", "", "the node's token ("+strings.SplitN(tokenFlagHelp, ":", 2)[0]+": prefer --token-file)")
	cmd.RegisterFlagCompletionFunc("node", n.completeNodes)
	return cmd
}

// nodeToken reads the node token verify checks: a file, stdin when piped,
// else (prompt) a prompt on the terminal; --token last, as it is visible to
// others.
func nodeToken(cmd *cobra.Command, t *tokenFlags) (token string, prompt func() (string, error), err error) {
	in := cmd.InOrStdin()
	if t.file != "" && t.token != "" {
		return "", nil, usageError("give the node's token once: --token-file or --token, not both")
	}
	switch {
	case t.file != "":
		tok, err := readSecret(t.file, in, "node token")
		return tok, nil, err
	case strings.TrimSpace(t.token) != "":
		return strings.TrimSpace(t.token), nil, nil
	}
	if f, ok := stdinIsTerminal(in); ok {
		return "", func() (string, error) {
			tok, err := promptSecret(f, cmd.ErrOrStderr(), "Node token: ")
			if err == nil && tok == "" {
				err = usageError("no node token typed")
			}
			return tok, err
		}, nil
	}
	tok, err := readSecret("-", in, "node token")
	if err != nil {
		return "", nil, withCode(ExitUsage, fmt.Errorf("%w: pipe the node's token on stdin, or give --token-file FILE", err))
	}
	return tok, nil, nil
}

// exactArgs is cobra.ExactArgs with a message that says what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError("%s needs %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// groupRunE makes a command group fail like kubectl on an unknown
// subcommand (exit 2) instead of printing help and succeeding.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(cmd, args[0])
	}
	return cmd.Help()
}
