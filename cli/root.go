// Package cli is pairdeck's command tree: the console (default), serve,
// nodes, node, demo and friends. It wires the store, gateway, client and
// console packages together; none of them import it.
package cli

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Version is stamped at build time with -ldflags "-X …cli.Version=…".
var Version = "0.1.0-dev"

// globals are the flags every command shares.
type globals struct {
	stateDir string
	// verbose says on stderr where each answer came from.
	verbose bool
}

// Main runs the command line and returns the process exit code.
func Main(args []string) int {
	// SIGHUP is a terminal going away (an SSH session dropped, a tmux pane
	// killed): a console or gateway shuts down as cleanly as on ctrl+c,
	// releasing the state dir and removing gateway.json, instead of dying
	// where it stands.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil && !errors.Is(err, errSilent) {
		// Interrupted: whatever the command was doing was cut short by the
		// signal, which is the real reason. A bare "context canceled" says
		// nothing the user does not know, so say it in their words.
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted")
		}
		err = withCode(ExitInterrupted, err)
	}
	reportError(stderr, err)
	return exitCode(err)
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	console := &consoleFlags{}
	root := &cobra.Command{
		Use:   "pairdeck",
		Short: "Approve nodes asking to pair with your gateway, from a live terminal console",
		Long: `pairdeck is a node-pairing gateway with a live console.

Run without a command it opens the console: attached to the gateway already
running for the state dir, or with a gateway embedded in the same process.
Nodes that ask to join appear at once with a countdown; approve with "a",
reject with "r", rename with "n".`,
		Example: `  pairdeck                         # console with an embedded gateway
  pairdeck serve                   # headless gateway (logs to stderr)
  pairdeck nodes pending           # what is waiting, from a script
  pairdeck demo                    # console plus simulated nodes`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConsole(cmd, g, console, false)
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return withCode(ExitUsage, err)
	})
	root.PersistentFlags().StringVar(&g.stateDir, "state-dir", "", "state directory (default $OPENCLAW_STATE_DIR, else ~/.openclaw)")
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "say on stderr where the answer came from (a gateway, or the state dir)")
	console.register(root)
	console.silent.register(root)
	root.AddCommand(newPolicyCmd(g), newPairingCmd(g))

	root.AddCommand(
		newServeCmd(g),
		newConsoleCmd(g),
		newNodesCmd(g),
		newNodeCmd(g),
		newCodesCmd(g),
		newStateCmd(g),
		newDemoCmd(g),
		newBenchCmd(g),
		newVersionCmd(),
	)
	fixCompletionCmd(root)
	usageArgs(root)
	return root
}

// usageArgs makes every positional-argument check in the tree (cobra's
// NoArgs "unknown command", ExactArgs, ...) a usage error, exit 2, like an
// unknown flag; cobra returns them as plain errors, which would exit 1.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			if exitCode(err) == ExitFailed {
				err = withCode(ExitUsage, err)
			}
			return err
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}
