package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/bench"
)

func newBenchCmd(g *globals) *cobra.Command {
	var asJSON, quick, verbose, strict bool
	var only []string
	var gatewayBin string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a real gateway and console: latency, throughput, fan-out, memory",
		Long: `Start real gateways (this binary's "serve", each on a temporary state dir
with durable writes) and drive them over loopback WebSockets with real
clients; time the console's frames in this process. Prints a table of
figures with their targets and how each grows from 1,000 to 10,000 nodes,
or one JSON object with --json.

A full run takes one to two minutes on two cores; --quick takes a tenth
of the samples (a smoke run, not figures to quote). Progress goes to
stderr. Stages, for --only:
  ` + strings.Join(bench.Stages, ", ") + `

The state dirs are made under $TMPDIR and removed afterwards; --state-dir
is not used.`,
		Example: `  pairdeck bench
  pairdeck bench --json > bench.json
  pairdeck bench --quick --only request,console`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this binary to start gateways from: %w", err)
			}
			if gatewayBin != "" {
				self = gatewayBin
			}
			var progress io.Writer = io.Discard
			if verbose || !asJSON {
				progress = cmd.ErrOrStderr()
			}
			rep, err := bench.Run(cmd.Context(), bench.Options{
				Gateway:  bench.Launcher{Path: self, Args: []string{"serve"}},
				Quick:    quick,
				Only:     only,
				Progress: progress,
			})
			if err != nil {
				if rep == nil {
					return withCode(ExitUsage, err)
				}
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = rep.WriteJSON(out)
			} else {
				err = rep.WriteTable(out)
			}
			if err != nil {
				return err
			}
			if missed := rep.Missed(); strict && len(missed) > 0 {
				return fmt.Errorf("%s missed: %s", plural(len(missed), "target"), strings.Join(missed, "; "))
			}
			return nil
		},
	}
	_ = g // the bench makes its own state dirs
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print one JSON object instead of the table")
	fl.BoolVar(&quick, "quick", false, "take about a tenth of the samples (smoke run)")
	fl.StringSliceVar(&only, "only", nil, "run only these stages ("+strings.Join(bench.Stages, ",")+")")
	fl.BoolVarP(&verbose, "verbose", "v", false, "print progress on stderr with --json too")
	fl.BoolVar(&strict, "strict", false, "exit 1 when a figure misses its target")
	fl.StringVar(&gatewayBin, "gateway", "", "start the gateways from this pairdeck binary instead of this one (to compare two builds with one harness)")
	return cmd
}
