package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
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

// hint is a node command as the user can run it again: with --node-dir
// (or --state-dir) when the node's dir is not the default one, and with
// extra arguments, shell-quoted.
func (f *nodeFlags) hint(sub string, extra ...string) string {
	args := []string{"pairdeck", "node", sub}
	switch {
	case f.dir != "":
		args = append(args, "--node-dir", f.dir)
	case f.g.stateDir != "":
		args = append(args, "--state-dir", f.g.stateDir)
	}
	args = append(args, extra...)
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return "`" + strings.Join(args, " ") + "`"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,~") == "" && !strings.HasPrefix(s, "~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
	if err := checkGatewayURL(f.url, "--url"); err != nil {
		return "", "", err
	}
	if err := checkGatewayURL(os.Getenv(client.EnvGatewayURL), "$"+client.EnvGatewayURL); err != nil {
		return "", "", err
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
	var shared gatewaySecretFlags
	var code codeFlags
	cmd := &cobra.Command{
		Use:   "pair --name <name> | --code -",
		Short: "Ask the gateway to pair this node and wait for the decision",
		Long: `Connect as a node, request pairing, print the request id and the node's
fingerprint (to match it in the console), and wait for an operator. On
approval the token is stored in <node-dir>/node.json (mode 0600).

OpenClaw gateways pair nodes through device pairing: the node connects with
the gateway's shared token (--gateway-token-file, or $OPENCLAW_GATEWAY_TOKEN)
or, for a gateway in password mode, its password (--gateway-password-file,
or $OPENCLAW_GATEWAY_PASSWORD); either is sent only when the gateway asks
for it, and never stored. The node is given a device token, which is
stored in node.json at once, and its commands wait for an operator's
approval. OpenClaw 2026.8 and later tell the node when they are approved;
2026.4 and 2026.7 do not, so there pairing ends once the device token is
stored, and the approval applies when the node next connects.

With a setup code (pairdeck codes create) the request is approved at once
when it fits the code's scope. --code - asks for the code (or the setup
link) on a terminal, or reads it from stdin; --code-file reads it from a
file. A link also names the gateway (--url still wins). A code the gateway
does not accept for this node is reported with its reason, and the request
waits for an operator like any other. With a code, --name defaults to this
machine's host name. On an OpenClaw 2026.8+ gateway the code is presented
when connecting, as OpenClaw's own node host presents it.

Exit codes: 0 approved (or, on OpenClaw 2026.4/2026.7, paired with its
commands awaiting approval), 1 rejected (or failed), 124 expired or timed
out, 130 interrupted.`,
		Example: `  pairdeck node pair --code -                       # paste the setup link when asked
  pairdeck node pair --code-file ./setup-link --name rack-7
  pairdeck node pair --name "Living Room iPad" --platform ios --device-family iPad
  pairdeck node pair --name build-box --caps system --commands system.notify --wait 10m
  pairdeck node pair --node-dir /tmp/node2 --name second --url ws://gw:18789
  OPENCLAW_GATEWAY_TOKEN="$(cat gw-token)" pairdeck node pair --name build-box --url ws://openclaw-host:18789`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if code.given() && strings.TrimSpace(req.DisplayName) == "" {
				if host, err := os.Hostname(); err == nil {
					req.DisplayName = host
				}
			}
			if strings.TrimSpace(req.DisplayName) == "" {
				return usageError("node pair needs --name (what operators will see)")
			}
			if code.value == "-" && (shared.tokenFile == "-" || shared.passwordFile == "-") {
				return usageError("--code - and the gateway's secret cannot both read stdin: give one of them a file")
			}
			if wait < 0 {
				return usageError("--wait %s: want 0 (wait until the request expires) or a positive duration", durationText(wait))
			}
			if cmd.Flags().Changed("silent") {
				req.Silent = &silent
			}
			secret, err := shared.nodeSecret(cmd)
			if err != nil {
				return err
			}
			if code.given() {
				in, err := code.read(cmd, time.Now())
				if err != nil {
					return err
				}
				req.Code = in.code
				if f.url == "" && in.url != "" {
					f.url = in.url
				}
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
				Token:    secret.token,
				Password: secret.password,
				Client:   protocol.ClientInfo{Version: Version, Platform: req.Platform, DeviceFamily: req.DeviceFamily, ModelIdentifier: req.ModelIdentifier, DisplayName: req.DisplayName},
			}
			// A device token is the node's credential as soon as the
			// gateway issues it: it is saved at once, whatever happens
			// next.
			var saveErr error
			save := func(st client.NodeState) {
				st.GatewayURL = url
				if err := client.SaveNodeState(dir, st); err != nil && saveErr == nil {
					saveErr = err
				}
			}
			out, err := client.Pair(ctx, cfg, req, func(pp client.PairPending) {
				if pp.State != nil {
					save(*pp.State)
				}
				printPairPending(p, dir, req.DisplayName, pp)
			})
			if saveErr != nil {
				return saveErr
			}
			if err != nil {
				if out.State.DeviceToken != "" {
					save(out.State)
					if saveErr != nil {
						return saveErr
					}
				}
				return pairFailure(p, explainTLS(url, err), f.hint("pair", "--name", req.DisplayName), out.State.DeviceToken != "", f.hint("connect"))
			}
			out.State.GatewayURL = url
			if err := client.SaveNodeState(dir, out.State); err != nil {
				return err
			}
			path := client.NodeStatePath(dir)
			if p.json {
				line := map[string]any{"event": "approved", "requestId": out.RequestID, "nodeId": out.NodeID, "stateFile": path}
				if out.ByCode {
					line["byCode"] = true
				}
				if out.CommandsPending {
					line = map[string]any{"event": "paired", "commandsPending": true, "nodeId": out.NodeID, "stateFile": path}
				}
				return p.JSONLine(line)
			}
			switch {
			case out.ByCode && out.State.DeviceToken != "":
				p.Line("Approved by the setup code. The device token the gateway issued is stored in %s; connect with %s.", path, f.hint("connect"))
			case out.ByCode:
				p.Line("Approved by the setup code. Token stored in %s; connect with %s.", path, f.hint("connect"))
			case out.CommandsPending:
				p.Line("Paired: the gateway gave this node a device token, stored in %s; connect with %s.", path, f.hint("connect"))
				p.Line("Its commands still wait for an operator's approval; this gateway does not tell the node, the approval applies when it next connects.")
			case out.State.DeviceToken != "":
				p.Line("Approved: an operator approved this node's commands. Its device token is stored in %s; connect with %s.", path, f.hint("connect"))
			default:
				p.Line("Approved. Token stored in %s; connect with %s.", path, f.hint("connect"))
			}
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
	fl.StringVar(&shared.tokenFile, "gateway-token-file", "", "OpenClaw gateways: read the gateway's shared token from this file (- reads stdin); default $"+gateway.EnvToken)
	fl.StringVar(&shared.passwordFile, "gateway-password-file", "", "OpenClaw gateways in password mode: read the gateway's password from this file (- reads stdin); default $"+envOpenClawPassword)
	code.register(cmd)
	return cmd
}

// gatewaySecretFlags name the gateway's shared secret a node presents to an
// OpenClaw gateway.
type gatewaySecretFlags struct {
	tokenFile, passwordFile string
}

// nodeSecret is the gateway's shared token or password, from the flags,
// else $OPENCLAW_GATEWAY_TOKEN / $OPENCLAW_GATEWAY_PASSWORD, as OpenClaw's
// own node hosts take them. They are sent only if the gateway asks for
// them, and never stored.
func (f *gatewaySecretFlags) nodeSecret(cmd *cobra.Command) (credentials, error) {
	if f.tokenFile == "-" && f.passwordFile == "-" {
		return credentials{}, usageError("--gateway-token-file - and --gateway-password-file - cannot both read stdin: give one of them a file")
	}
	var c credentials
	var err error
	if f.tokenFile != "" {
		if c.token, err = readSecret(f.tokenFile, cmd.InOrStdin(), "gateway token"); err != nil {
			return c, err
		}
	} else {
		c.token = strings.TrimSpace(os.Getenv(gateway.EnvToken))
	}
	if f.passwordFile != "" {
		c.password, err = readSecret(f.passwordFile, cmd.InOrStdin(), "gateway password")
	} else {
		c.password = strings.TrimSpace(os.Getenv(envOpenClawPassword))
	}
	return c, err
}

// printPairPending tells the person at the node what waits for whom.
func printPairPending(p *printer, dir, name string, pp client.PairPending) {
	if p.json {
		line := map[string]any{"event": "pending", "requestId": pp.RequestID, "nodeId": pp.NodeID, "fingerprint": pp.Fingerprint, "created": pp.Created}
		for k, v := range map[string]string{"kind": pp.Kind, "reason": pp.Reason, "hint": pp.Hint} {
			if v != "" {
				line[k] = v
			}
		}
		if pp.State != nil {
			line["stateFile"] = client.NodeStatePath(dir)
		}
		if pp.Code != nil {
			line["code"] = pp.Code
		}
		p.JSONLine(line)
		return
	}
	if c := pp.Code; c != nil {
		if c.Reason != "" {
			p.Line("The setup code approved nothing: %s (%s).", c.Message, c.Reason)
		} else {
			p.Line("The setup code approved nothing: %s.", c.Message)
		}
		p.Line("The request waits for an operator, like any other:")
	}
	switch {
	case pp.Kind == protocol.KindDevice:
		p.Line("The gateway holds this device for approval before it lets the node in.")
		p.Line("  request      %s (device pairing, %s)", orDash(pp.RequestID), reasonText(pp.Reason))
		p.Line("  node         %s (fingerprint %s)", pp.NodeID, pp.Fingerprint)
		p.Line("Waiting: %s…", pp.Hint)
	case pp.State != nil:
		p.Line("Connected as %q: the gateway paired this device and gave it a device token, stored in node.json.", name)
		p.Line("  node         %s (fingerprint %s)", pp.NodeID, pp.Fingerprint)
		if pp.RequestID != "" {
			p.Line("  request      %s", pp.RequestID)
		}
		p.Line("Its commands wait for an operator: %s.", pp.Hint)
	default:
		p.Line("Requested pairing as %q.", name)
		p.Line("  request      %s", pp.RequestID)
		p.Line("  node         %s (fingerprint %s)", pp.NodeID, pp.Fingerprint)
		if !pp.ExpiresAt.IsZero() {
			p.Line("Waiting for an operator to approve (expires in %s)…", countdown(time.Now(), pp.ExpiresAt.UnixMilli()))
		} else {
			p.Line("Waiting for an operator to approve…")
		}
	}
}

// reasonText says why a device pairing request waits, in words.
func reasonText(reason string) string {
	switch reason {
	case "", protocol.PairingReasonNotPaired:
		return "new device"
	}
	return strings.ReplaceAll(reason, "-", " ")
}

// pairFailure maps how pairing ended to the documented exit codes.
// kept says the gateway issued a device token, which node.json now holds.
func pairFailure(p *printer, err error, again string, kept bool, connect string) error {
	event, code := "failed", ExitFailed
	switch {
	case errors.Is(err, client.ErrPairRejected):
		event = "rejected"
		err = errors.New("an operator rejected the pairing request")
	case errors.Is(err, client.ErrCodeRefused):
		event = "code-refused"
	case errors.Is(err, client.ErrPairExpired):
		event, code = "expired", ExitTimedOut
		err = fmt.Errorf("the pairing request expired before anyone decided; ask again with %s", again)
	case kept && (errors.Is(err, client.ErrPairTimedOut) || errors.Is(err, context.DeadlineExceeded)):
		event, code = "timed-out", ExitTimedOut
		err = fmt.Errorf("gave up waiting for the approval of this node's commands (--wait); the device token is stored, and %s signs in with it while they wait", connect)
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
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "connect [--token-file FILE]",
		Short: "Connect with the stored token and stay connected",
		Long: `Connect to the gateway as this paired node and stay connected, reconnecting
with backoff after network loss, until interrupted. It exits with a clear
message if an operator removes the node or the gateway refuses its token.

The token is the one "node pair" stored in <node-dir>/node.json: a node
token from a pairdeck gateway, or the device token an OpenClaw gateway
issued (node.json is rewritten when that gateway rotates it, and when it
tells the node its commands were approved). When an operator of a pairdeck
gateway approved the request while this node was not waiting, they were
shown the token instead: give it with --token-file (- reads stdin). It is
stored in node.json once the gateway has accepted it.`,
		Example: `  pairdeck node connect
  pairdeck node connect --node-dir /tmp/node2
  pairdeck node connect --token-file ./token-from-the-operator`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, url, err := f.resolve()
			if err != nil {
				return err
			}
			var given string
			if tokenFile != "" {
				if given, err = readSecret(tokenFile, cmd.InOrStdin(), "node token"); err != nil {
					return err
				}
			}
			id, err := client.LoadIdentity(client.IdentityPath(dir))
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no node identity in %s: this node never asked to pair (a token belongs to the identity that asked); pair it with %s",
					dir, f.hint("pair", "--name", "NAME"))
			}
			if err != nil {
				return err
			}
			st, err := client.LoadNodeState(dir)
			switch {
			case err == nil && given != "":
				st.Token = given
			case err == nil:
			case given != "" && errors.Is(err, fs.ErrNotExist):
				st = client.NodeState{NodeID: id.DeviceID, Token: given}
			case errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("%s has no token (no %s): wait for approval with %s, or, if an operator gave you the token, connect with %s",
					dir, client.NodeStatePath(dir), f.hint("pair", "--name", "NAME"), f.hint("connect", "--token-file", "FILE"))
			default:
				return err
			}
			if f.url == "" && os.Getenv(client.EnvGatewayURL) == "" && st.GatewayURL != "" {
				url = st.GatewayURL
			}
			p := newPrinter(cmd.OutOrStdout(), f.asJSON)
			ctx := cmd.Context()
			// node.json is rewritten when an OpenClaw gateway rotates the
			// device token or says the node's commands were approved, so
			// the next connect presents what the gateway now expects.
			var stateMu sync.Mutex
			var saveErr error
			update := func(change func(*client.NodeState)) {
				stateMu.Lock()
				defer stateMu.Unlock()
				change(&st)
				if err := client.SaveNodeState(dir, st); err != nil && saveErr == nil {
					saveErr = err
				}
			}
			c, err := client.ConnectNode(ctx, client.Config{URL: url, Identity: id,
				Client: protocol.ClientInfo{Version: Version, DisplayName: st.DisplayName},
				OnDeviceToken: func(token string) {
					update(func(st *client.NodeState) { st.DeviceToken = token })
				}}, st)
			if err != nil {
				return f.connectFailure(explainTLS(url, err))
			}
			defer c.Close()
			if given != "" {
				// The gateway took the token: keep it for the next connect.
				update(func(st *client.NodeState) {
					if st.GatewayURL == "" {
						st.GatewayURL = url
					}
					if st.PairedAtMs == 0 {
						st.PairedAtMs = time.Now().UnixMilli()
					}
				})
			}
			nodeID := st.NodeID
			report := func(state string, err error) {
				if p.json {
					line := map[string]any{"event": state, "nodeId": nodeID, "url": url}
					if err != nil {
						line["error"] = err.Error()
					}
					p.JSONLine(line)
					return
				}
				switch {
				case state == "approved":
					p.Line("approved: an operator approved this node's commands")
				case err != nil:
					p.Line("%s: %s (%v)", state, url, err)
				default:
					p.Line("%s: %s as node %s", state, url, protocol.Fingerprint(nodeID))
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
					return f.connectFailure(c.Err())
				case u, ok := <-c.Updates():
					if !ok {
						<-c.Done()
						return f.connectFailure(c.Err())
					}
					stateMu.Lock()
					err := saveErr
					stateMu.Unlock()
					if err != nil {
						return err
					}
					if commandsApproved(u, nodeID) {
						// OpenClaw 2026.8+ tells the node's own socket.
						update(func(st *client.NodeState) { st.Approval = protocol.ApprovalApproved })
						report("approved", nil)
						continue
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
	cmd.Flags().StringVar(&tokenFile, "token-file", "", "the node's token, as an operator gave it (- reads stdin); stored in node.json once accepted")
	return cmd
}

// commandsApproved reports the gateway telling this node that its commands
// were approved (OpenClaw 2026.8+: node.pair.resolved on its own socket).
func commandsApproved(u protocol.Update, nodeID string) bool {
	if u.Event == nil || u.Event.Event != protocol.EventPairResolved {
		return false
	}
	var ev protocol.ResolvedEvent
	return json.Unmarshal(u.Event.Payload, &ev) == nil && ev.NodeID == nodeID && ev.Decision == protocol.DecisionApproved
}

func (f *nodeFlags) connectFailure(err error) error {
	again := f.hint("pair", "--name", "NAME")
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrNodeRemoved):
		return fmt.Errorf("an operator removed this node from the gateway; pair again with %s", again)
	case errors.Is(err, client.ErrNotPaired):
		return fmt.Errorf("the gateway refused this node's token (%v); pair again with %s", err, again)
	}
	return err
}
