package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/policy"
	"github.com/pairdeck/pairdeck/tui"
)

// policyCmd holds what every `policy` subcommand shares.
type policyCmd struct {
	g      *globals
	asJSON bool
}

func newPolicyCmd(g *globals) *cobra.Command {
	pc := &policyCmd{g: g}
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Rules that approve silent requests without a prompt (off by default)",
		Long: `Edit the auto-approval policy in <state>/pairdeck/policy.json.

A rule approves a node's own request only when the request is silent
(silent:true) and every condition the rule states holds: --loopback (the
node connects from a loopback address), --cidr (its address is in one of the
prefixes), --node (its node id is one of these), --platform (it says it is
one of these platforms). Rules are tried in order; the first that matches
approves, and is recorded as the actor ("auto (rule NAME)") in the audit log,
the console and "nodes pending --watch". A request that declares an
exec-class command (system.run, system.run.prepare, system.which) is
approved only by a rule with --allow-exec. A rule with no condition is
refused: it would approve every silent request.

Nothing is approved until "pairdeck policy enable". The file is edited here
directly (a running gateway re-reads it at its next request), so these
commands need the gateway's state dir, not its socket.`,
		Example: `  pairdeck policy rule add lab --cidr 10.0.0.0/8 --platform ios,ipados
  pairdeck policy rule add this-host --loopback
  pairdeck policy enable
  pairdeck policy show --json`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	cmd.PersistentFlags().BoolVar(&pc.asJSON, "json", false, "print the resulting policy as JSON")
	rule := &cobra.Command{
		Use:     "rule",
		Short:   "Add or remove an auto-approval rule",
		Example: `  pairdeck policy rule add lab --cidr 10.0.0.0/8`,
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	rule.AddCommand(pc.ruleAddCmd(), pc.ruleRemoveCmd())
	cmd.AddCommand(pc.showCmd(), rule, pc.switchCmd(true), pc.switchCmd(false))
	return cmd
}

// policyJSON is the --json form of the policy commands: the file's content
// and where it is.
type policyJSON struct {
	File string `json:"file"`
	policy.Policy
}

// dir is the policy dir of the state dir.
func (pc *policyCmd) dir() (string, error) {
	stateDir, err := pc.g.resolveStateDir()
	if err != nil {
		return "", err
	}
	return policy.Dir(stateDir), nil
}

// edit changes the policy file under its lock and prints the result.
func (pc *policyCmd) edit(cmd *cobra.Command, change func(*policy.Policy) error, say func(p *printer, pol policy.Policy)) error {
	dir, err := pc.dir()
	if err != nil {
		return err
	}
	pol, err := policy.Edit(cmd.Context(), dir, change)
	if err != nil {
		return err
	}
	p := newPrinter(cmd.OutOrStdout(), pc.asJSON)
	if p.json {
		return p.JSON(policyJSON{File: policy.Path(dir), Policy: pol})
	}
	say(p, pol)
	return nil
}

func (pc *policyCmd) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Show the auto-approval switch and rules",
		Example: `  pairdeck policy show
  pairdeck policy show --json | jq '.autoApprove.rules[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := pc.dir()
			if err != nil {
				return err
			}
			path := policy.Path(dir)
			pol, err := policy.Load(path)
			if err != nil {
				return err
			}
			p := newPrinter(cmd.OutOrStdout(), pc.asJSON)
			if p.json {
				return p.JSON(policyJSON{File: path, Policy: pol})
			}
			p.Line("%s", switchSentence(pol))
			p.Line("File: %s", path)
			printRules(p, pol)
			return nil
		},
	}
}

func switchSentence(pol policy.Policy) string {
	n := len(pol.AutoApprove.Rules)
	switch {
	case !pol.AutoApprove.Enabled:
		return fmt.Sprintf("Auto-approval is off (%s): every request waits for an operator.", plural(n, "rule"))
	case n == 0:
		return "Auto-approval is on but there are no rules, so nothing is approved: add one with `pairdeck policy rule add`."
	default:
		return fmt.Sprintf("Auto-approval is on (%s): silent requests that match a rule are approved without a prompt.", plural(n, "rule"))
	}
}

var ruleColumns = []column{
	{title: "RULE", cut: 8, grow: 1},
	{title: "APPROVES SILENT REQUESTS WITH", cut: 16, grow: 4},
	{title: "EXEC-CLASS COMMANDS", drop: 1},
}

func printRules(p *printer, pol policy.Policy) {
	if len(pol.AutoApprove.Rules) == 0 {
		return
	}
	rows := make([][]string, 0, len(pol.AutoApprove.Rules))
	for _, r := range pol.AutoApprove.Rules {
		exec := "waits for a person"
		if r.AllowExec {
			exec = "approved"
		}
		rows = append(rows, []string{r.Name, r.Conditions(), exec})
	}
	p.Table(ruleColumns, rows)
}

func (pc *policyCmd) ruleAddCmd() *cobra.Command {
	var r policy.Rule
	cmd := &cobra.Command{
		Use:   "add NAME [--loopback] [--cidr PREFIX,…] [--node ID,…] [--platform NAME,…] [--allow-exec]",
		Short: "Add a rule (or replace the rule of that name)",
		Long: `Add a rule that approves silent requests meeting all of its conditions,
or replace the rule of the same name in place. Give at least one condition.
The platform is what a node says about itself: tie such a rule to an
address or node id when it matters.`,
		Example: `  pairdeck policy rule add lab --cidr 10.0.0.0/8,192.168.7.0/24 --platform ios
  pairdeck policy rule add kiosk --node c8cf3b318f965532d8f389c41756d48469d877e551bf24bcb67e55e182442e88
  pairdeck policy rule add local-runners --loopback --allow-exec`,
		Args: exactArgs(1, "a rule NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Name = args[0]
			if !r.Loopback && len(r.CIDRs) == 0 && len(r.NodeIDs) == 0 && len(r.Platforms) == 0 {
				return usageError("rule %q has no condition and would approve every silent request: give at least one of --loopback, --cidr, --node or --platform", r.Name)
			}
			if _, err := r.Normalize(); err != nil {
				return withCode(ExitUsage, err)
			}
			var replaced bool
			return pc.edit(cmd, func(p *policy.Policy) (err error) {
				replaced, err = p.AddRule(r)
				return err
			}, func(p *printer, pol policy.Policy) {
				added, _ := pol.Rule(r.Name)
				verb := "Added"
				if replaced {
					verb = "Replaced"
				}
				exec := "requests declaring exec-class commands still wait for a person"
				if added.AllowExec {
					exec = "including requests that declare exec-class commands"
				}
				p.Line("%s rule %s: approves silent requests with %s (%s).", verb, added.Name, added.Conditions(), exec)
				if !pol.AutoApprove.Enabled {
					p.Line("Auto-approval is off: `pairdeck policy enable` switches it on.")
				}
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&r.Loopback, "loopback", false, "the node connects from a loopback address")
	fl.StringSliceVar(&r.CIDRs, "cidr", nil, "its address is in one of these prefixes (or addresses)")
	fl.StringSliceVar(&r.NodeIDs, "node", nil, "its node id is one of these (whole ids)")
	fl.StringSliceVar(&r.Platforms, "platform", nil, "it says it is one of these platforms (case ignored)")
	fl.BoolVar(&r.AllowExec, "allow-exec", false, "also approve requests that declare exec-class commands")
	return cmd
}

func (pc *policyCmd) ruleRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Short:   "Remove a rule",
		Example: `  pairdeck policy rule remove lab`,
		Args:    exactArgs(1, "a rule NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := pc.edit(cmd, func(p *policy.Policy) error { return p.RemoveRule(args[0]) },
				func(p *printer, pol policy.Policy) {
					p.Line("Removed rule %s. %s", args[0], switchSentence(pol))
				})
			if errors.Is(err, policy.ErrNoRule) {
				return fmt.Errorf("there is no rule named %q (pairdeck policy show lists them)", args[0])
			}
			return err
		},
	}
}

func (pc *policyCmd) switchCmd(on bool) *cobra.Command {
	use, short, example := "disable", "Stop approving anything automatically (the rules are kept)", "  pairdeck policy disable"
	if on {
		use, short, example = "enable", "Approve silent requests that match a rule", "  pairdeck policy enable"
	}
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pc.edit(cmd, func(p *policy.Policy) error {
				p.AutoApprove.Enabled = on
				return nil
			}, func(p *printer, pol policy.Policy) {
				p.Line("%s", switchSentence(pol))
			})
		},
	}
}

// silentCheckFlags configure the console's own silent approval.
type silentCheckFlags struct {
	on      bool
	sshHost string
}

func (f *silentCheckFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.on, "auto-approve-silent", false,
		"approve silent requests without exec-class commands once `ssh -o BatchMode=yes <gateway host> true` succeeds as you")
	fl.StringVar(&f.sshHost, "ssh-host", "", "host (or ~/.ssh/config alias) the --auto-approve-silent check logs into (default: the gateway URL's host)")
}

// check builds the console's SSH check for the gateway at url, or nil when
// --auto-approve-silent is off.
func (f *silentCheckFlags) check(url string) (*tui.SilentCheck, error) {
	if !f.on {
		return nil, nil
	}
	host := strings.TrimSpace(f.sshHost)
	if host == "" {
		h, err := client.SSHHost(url)
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		host = h
	}
	c := client.SSHCheck{Host: host}
	return &tui.SilentCheck{Rule: policy.RuleSSHCheck, What: c.String(), Run: c.Run}, nil
}
