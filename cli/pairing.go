package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/protocol"
)

// policyOperator is the gateway's pairdeck-only controls: the pairing
// switch and the block list. The remote client and the in-process
// operator both have them; an OpenClaw gateway answers UNKNOWN_METHOD.
type policyOperator interface {
	PairingStatus(ctx context.Context) (protocol.PairingState, error)
	SetPairing(ctx context.Context, on bool) (protocol.PairingState, error)
	Block(ctx context.Context, nodeID, name string) (protocol.BlockResult, error)
	Unblock(ctx context.Context, nodeID string) (protocol.UnblockResult, error)
	Blocked(ctx context.Context) (protocol.BlockListResult, error)
}

// policyOp returns the session's pairdeck controls.
func policyOp(s *session) (policyOperator, error) {
	if p, ok := s.op.(policyOperator); ok {
		return p, nil
	}
	return nil, errors.New("this session cannot reach the pairing switch or the block list")
}

// pairdeckOnly explains a refusal by a gateway that is not pairdeck's.
func pairdeckOnly(s *session, what string, err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Reason() == protocol.ReasonUnknownMethod {
		return fmt.Errorf("%s: the gateway at %s is not a pairdeck gateway, so it has no %s", what, s.url, what)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func newPairingCmd(g *globals) *cobra.Command {
	var conn connFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pairing [on|off|status]",
		Short: "Switch the gateway's pairing on or off, or show the switch",
		Long: `Switch pairing on or off on the gateway running for the state dir (else
--url, else the state dir itself when no gateway runs).

While pairing is off, nodes' requests are refused with PAIRING_DISABLED and
nothing enters the queue; paired nodes keep connecting and requests already
pending can still be decided. The switch is remembered across restarts
(<state>/pairdeck/access.json); "pairdeck serve --pairing=on|off" sets it at
start. Every console's header follows it. Switching needs operator.admin.

Without an argument, or with "status", it shows the switch.`,
		Example: `  pairdeck pairing status
  pairdeck pairing off
  pairdeck pairing on --url wss://gw.example.net:18789 --token-file ~/.config/pairdeck/gw-token`,
		ValidArgs: []string{"on", "off", "status"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || (len(args) == 1 && args[0] != "on" && args[0] != "off" && args[0] != "status") {
				return usageError("pairing takes on, off or status")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			want := "status"
			if len(args) == 1 {
				want = args[0]
			}
			ctx := cmd.Context()
			acc := readAccess
			if want != "status" {
				acc = writeAccess
			}
			s, err := openSession(ctx, g, &conn, protocol.ActorCLI, acc)
			if err != nil {
				return err
			}
			defer s.close()
			p := newPrinter(cmd.OutOrStdout(), asJSON)
			return tellSource(g, s, p, cmd.ErrOrStderr(), false, func() error { return pairingAnswer(ctx, s, p, want) })
		},
	}
	conn.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the switch as JSON")
	return cmd
}

// pairingAnswer shows or switches the pairing switch.
func pairingAnswer(ctx context.Context, s *session, p *printer, want string) error {
	op, err := policyOp(s)
	if err != nil {
		return err
	}
	before, err := op.PairingStatus(ctx)
	if err != nil {
		return pairdeckOnly(s, "pairing switch", err)
	}
	st := before
	if want != "status" {
		if st, err = op.SetPairing(ctx, want == "on"); err != nil {
			return fmt.Errorf("switch pairing %s: %w", want, err)
		}
	}
	if p.json {
		return p.JSON(st)
	}
	switch {
	case want == "status":
		p.Line("%s", pairingSentence(st, time.Now()))
	case before.Enabled == st.Enabled:
		p.Line("Pairing was already %s. %s", onOff(st.Enabled), pairingEffect(st.Enabled))
	default:
		p.Line("Pairing switched %s. %s", onOff(st.Enabled), pairingEffect(st.Enabled))
	}
	return nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

func pairingEffect(on bool) string {
	if on {
		return "Nodes may ask to pair."
	}
	return "Nodes' requests are refused; paired nodes keep connecting."
}

func pairingSentence(st protocol.PairingState, now time.Time) string {
	s := "Pairing is " + onOff(st.Enabled)
	if st.ChangedAtMs > 0 {
		s += fmt.Sprintf(" (switched %s by %s)", ago(now, st.ChangedAtMs), orDash(st.ChangedBy))
	}
	return s + ". " + pairingEffect(st.Enabled)
}
