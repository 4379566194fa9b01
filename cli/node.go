package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/protocol"
)

// nodeFlags are shared by the node-side commands.
type nodeFlags struct {
	g      *globals
	dir    string
	url    string
	asJSON bool
}

func newNodeCmd(g *globals) *cobra.Command {
	f := &nodeFlags{g: g}
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Act as a node: ask to pair, then connect with the token",
		Long: `The node side of pairing, for real devices and for trying the flow out.

A node keeps its identity (identity/device.json) and, once paired, its token
(node.json, mode 0600) in a directory of its own (--node-dir), so several
simulated nodes can run on one machine.`,
		Example: `  pairdeck node pair --name "Living Room iPad" --platform ios
  pairdeck node connect`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.dir, "node-dir", "", "the node's own state directory (default <state-dir>/node)")
	fl.StringVar(&f.url, "url", "", "gateway URL (default $OPENCLAW_GATEWAY_URL, else the local gateway, else ws://127.0.0.1:18789)")
	fl.BoolVar(&f.asJSON, "json", false, "print progress as JSON lines")
	cmd.AddCommand(f.pairCmd(), f.connectCmd())
	return cmd
}

// resolve finds the node dir and the gateway URL.
func (f *nodeFlags) resolve() (dir, url string, err error) {
	stateDir, err := f.g.resolveStateDir()
	if err != nil {
		return "", "", err
	}
	if dir, err = expandHome(f.dir); err != nil {
		return "", "", err
	}
	if dir == "" {
		dir = filepath.Join(stateDir, "node")
	}
	url = f.url
	if url == "" && os.Getenv(client.EnvGatewayURL) == "" {
		if rt, err := gateway.ReadRuntime(stateDir); err == nil && rt.Alive {
			url = rt.URL
		}
	}
	return dir, client.ResolveURL(url), nil
}

func (f *nodeFlags) pairCmd() *cobra.Command {
	var req protocol.PairRequestParams
	var silent bool
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "pair --name <name>",
		Short: "Ask the gateway to pair this node and wait for the decision",
		Long: `Connect as a node, request pairing, print the request id and the node's
fingerprint (to match it in the console), and wait for an operator. On
approval the token is stored in <node-dir>/node.json (mode 0600).

Exit codes: 0 approved, 1 rejected (or failed), 124 expired or timed out,
130 interrupted.`,
		Example: `  pairdeck node pair --name "Living Room iPad" --platform ios --device-family iPad
  pairdeck node pair --name build-box --caps system --commands system.notify --wait 10m
  pairdeck node pair --node-dir /tmp/node2 --name second --url ws://gw:18789`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(req.DisplayName) == "" {
				return usageError("node pair needs --name (what operators will see)")
			}
			if wait < 0 {
				return usageError("--wait %s: want 0 (wait until the request expires) or a positive duration", durationText(wait))
			}
			if cmd.Flags().Changed("silent") {
				req.Silent = &silent
			}
			dir, url, err := f.resolve()
			if err != nil {
				return err
			}
			id, err := client.LoadOrCreateIdentity(client.IdentityPath(dir))
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if wait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, wait)
				defer cancel()
			}
			p := newPrinter(cmd.OutOrStdout(), f.asJSON)
			cfg := client.Config{
				URL:      url,
				Identity: id,
				Client:   protocol.ClientInfo{Version: Version, Platform: req.Platform, DeviceFamily: req.DeviceFamily, ModelIdentifier: req.ModelIdentifier, DisplayName: req.DisplayName},
			}
			out, err := client.Pair(ctx, cfg, req, func(pp client.PairPending) {
				if p.json {
					p.JSONLine(map[string]any{"event": "pending", "requestId": pp.RequestID, "nodeId": pp.NodeID, "fingerprint": pp.Fingerprint, "created": pp.Created})
					return
				}
				p.Line("Requested pairing as %q.", req.DisplayName)
				p.Line("  request      %s", pp.RequestID)
				p.Line("  node         %s (fingerprint %s)", pp.NodeID, pp.Fingerprint)
				if !pp.ExpiresAt.IsZero() {
					p.Line("Waiting for an operator to approve (expires in %s)…", countdown(time.Now(), pp.ExpiresAt.UnixMilli()))
				} else {
					p.Line("Waiting for an operator to approve…")
				}
			})
			if err != nil {
				return pairFailure(p, err)
			}
			out.State.GatewayURL = url
			if err := client.SaveNodeState(dir, out.State); err != nil {
				return err
			}
			if p.json {
				return p.JSONLine(map[string]any{"event": "approved", "requestId": out.RequestID, "nodeId": out.NodeID, "stateFile": client.NodeStatePath(dir)})
			}
			p.Line("Approved. Token stored in %s; connect with `pairdeck node connect`.", client.NodeStatePath(dir))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&req.DisplayName, "name", "", "display name operators will see")
	fl.StringVar(&req.Platform, "platform", runtime.GOOS, "platform to declare")
	fl.StringVar(&req.DeviceFamily, "device-family", "", "device family (e.g. iPad)")
	fl.StringVar(&req.ModelIdentifier, "model", "", "model identifier (e.g. iPad13,8)")
	fl.StringVar(&req.Version, "node-version", "", "node software version to declare")
	fl.StringSliceVar(&req.Caps, "caps", nil, "capabilities, comma-separated")
	fl.StringSliceVar(&req.Commands, "commands", nil, "commands the node offers, comma-separated")
	fl.BoolVar(&silent, "silent", false, "hint that the request may be approved automatically")
	fl.DurationVar(&wait, "wait", 5*time.Minute, "give up after this long (0 waits until the request expires)")
	return cmd
}

// pairFailure maps how pairing ended to the documented exit codes.
func pairFailure(p *printer, err error) error {
	event, code := "failed", ExitFailed
	switch {
	case errors.Is(err, client.ErrPairRejected):
		event = "rejected"
		err = errors.New("an operator rejected the pairing request")
	case errors.Is(err, client.ErrPairExpired):
		event, code = "expired", ExitTimedOut
		err = errors.New("the pairing request expired before anyone decided; run `pairdeck node pair` again")
	case errors.Is(err, client.ErrPairTimedOut), errors.Is(err, context.DeadlineExceeded):
		event, code = "timed-out", ExitTimedOut
		err = errors.New("gave up waiting for a decision (--wait); the request stays pending until it expires")
	case errors.Is(err, context.Canceled):
		event, code = "interrupted", ExitInterrupted
		err = errors.New("interrupted")
	}
	if p.json {
		p.JSONLine(map[string]any{"event": event, "error": err.Error()})
	}
	return withCode(code, err)
}

func (f *nodeFlags) connectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "connect",
		Short: "Connect with the stored token and stay connected",
		Long: `Connect to the gateway as this paired node and stay connected, reconnecting
with backoff after network loss, until interrupted. It exits with a clear
message if an operator removes the node or the gateway refuses its token.`,
		Example: `  pairdeck node connect
  pairdeck node connect --node-dir /tmp/node2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, url, err := f.resolve()
			if err != nil {
				return err
			}
			st, err := client.LoadNodeState(dir)
			if err != nil {
				return err
			}
			id, err := client.LoadIdentity(client.IdentityPath(dir))
			if err != nil {
				return err
			}
			if f.url == "" && os.Getenv(client.EnvGatewayURL) == "" && st.GatewayURL != "" {
				url = st.GatewayURL
			}
			p := newPrinter(cmd.OutOrStdout(), f.asJSON)
			ctx := cmd.Context()
			c, err := client.ConnectNode(ctx, client.Config{URL: url, Identity: id,
				Client: protocol.ClientInfo{Version: Version, DisplayName: st.DisplayName}}, st)
			if err != nil {
				return nodeConnectFailure(err)
			}
			defer c.Close()
			report := func(state string, err error) {
				if p.json {
					line := map[string]any{"event": state, "nodeId": st.NodeID, "url": url}
					if err != nil {
						line["error"] = err.Error()
					}
					p.JSONLine(line)
					return
				}
				if err != nil {
					p.Line("%s: %s (%v)", state, url, err)
				} else {
					p.Line("%s: %s as node %s", state, url, protocol.Fingerprint(st.NodeID))
				}
			}
			// One line per change worth knowing: each reconnect attempt
			// is not one, so "connecting" is not printed and a repeated
			// failure only once.
			last, lastErr := protocol.Connected, ""
			report(last.String(), nil)
			for {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-c.Done():
					return nodeConnectFailure(c.Err())
				case u, ok := <-c.Updates():
					if !ok {
						<-c.Done()
						return nodeConnectFailure(c.Err())
					}
					if !u.StateChanged || u.State == protocol.Connecting {
						continue
					}
					errText := ""
					if u.Err != nil {
						errText = u.Err.Error()
					}
					if u.State == last && errText == lastErr {
						continue
					}
					last, lastErr = u.State, errText
					report(u.State.String(), u.Err)
				}
			}
		},
	}
}

func nodeConnectFailure(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrNodeRemoved):
		return fmt.Errorf("an operator removed this node from the gateway; pair again with `pairdeck node pair`")
	case errors.Is(err, client.ErrNotPaired):
		return fmt.Errorf("the gateway refused this node's token (%v); pair again with `pairdeck node pair`", err)
	}
	return err
}
