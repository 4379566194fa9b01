package cli

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/tui/qr"
)

// Setup codes: approval decided ahead of time (issue 16). An operator
// creates a code with a scope; a node that presents it with a request that
// fits is approved at once, with the code as the actor.

// codesOperator is what the codes commands need: the remote client and
// the in-process operator (offline, on the state dir) both have it.
type codesOperator interface {
	CreateCode(ctx context.Context, p protocol.CodeCreateParams) (protocol.CodeCreateResult, error)
	ListCodes(ctx context.Context, all bool) ([]protocol.SetupCode, error)
	RevokeCode(ctx context.Context, p protocol.CodeRevokeParams) (protocol.CodeRevokeResult, error)
}

// codesOp returns the session's setup-code methods.
func codesOp(s *session) (codesOperator, error) {
	if op, ok := s.op.(codesOperator); ok {
		return op, nil
	}
	return nil, fmt.Errorf("setup codes need a pairdeck gateway or its state dir (%s)", s.source())
}

// codesCmd holds what every `codes` subcommand shares.
type codesCmd struct {
	g      *globals
	conn   connFlags
	asJSON bool
}

func newCodesCmd(g *globals) *cobra.Command {
	c := &codesCmd{g: g}
	cmd := &cobra.Command{
		Use:   "codes",
		Short: "Create, list and revoke setup codes: approval decided before a node asks",
		Long: `A setup code approves, ahead of time, the nodes that present it: up to
--uses nodes, until it expires, and only those whose request fits its scope
(a name or name prefix, platforms, networks, and whether exec commands are
allowed). A request that does not fit, or comes with a code that expired,
is used up or was revoked, waits for a person like any other, and the node
is told why. The code is the approval's actor ("code <id>" in the history).

The code is shown once, when it is created: the gateway keeps only its
hash. Lists show its id and its first 4 characters, never the code.

The commands act on the gateway running for the state dir, else --url
(or $OPENCLAW_GATEWAY_URL), else, when no gateway runs, on the state dir
itself under its lock, like the nodes commands: a code created so is there
when the gateway starts (give --link-url for a setup link, as there is no
gateway address to put in one). Codes are a pairdeck gateway feature: an
OpenClaw gateway has its own (openclaw devices join-code).`,
		Example: `  pairdeck codes create --name-prefix rack- --uses 8 --ttl 1h --note "rack 4 rebuild"
  pairdeck codes list
  pairdeck codes revoke c7k2m9qp --reason "rebuild postponed"`,
		Args: cobra.ArbitraryArgs,
		RunE: groupRunE,
	}
	c.conn.register(cmd)
	cmd.PersistentFlags().BoolVar(&c.asJSON, "json", false, "print the result as JSON")
	cmd.AddCommand(c.createCmd(), c.listCmd(), c.revokeCmd())
	return cmd
}

// run opens a session, runs fn with the session's code methods and a
// printer, and closes the session.
func (c *codesCmd) run(cmd *cobra.Command, acc access, fn func(ctx context.Context, s *session, op codesOperator, p *printer) error) error {
	ctx := cmd.Context()
	s, err := openSession(ctx, c.g, &c.conn, protocol.ActorCLI, acc)
	if err != nil {
		return err
	}
	defer s.close()
	op, err := codesOp(s)
	if err != nil {
		return err
	}
	if err := supports(s.op, client.CapCodes); err != nil {
		return err
	}
	p := newPrinter(cmd.OutOrStdout(), c.asJSON)
	return tellSource(c.g, s, p, cmd.ErrOrStderr(), false, func() error { return fn(ctx, s, op, p) })
}

// codeCreateFlags are `codes create`'s flags.
type codeCreateFlags struct {
	ttl        time.Duration
	uses       int
	name       string
	namePrefix string
	platforms  []string
	cidrs      []string
	allowExec  bool
	note       string
	noQR       bool
	linkURL    string
}

// params checks the flags and turns them into the create call's params.
// Every refusal is a usage error naming the flag, before anything is sent.
func (f *codeCreateFlags) params() (protocol.CodeCreateParams, error) {
	if err := checkDuration("--ttl", f.ttl, time.Second, time.Duration(protocol.CodeMaxTTLMs)*time.Millisecond); err != nil {
		return protocol.CodeCreateParams{}, err
	}
	if err := checkCount("--uses", f.uses, 1, protocol.CodeMaxUses); err != nil {
		return protocol.CodeCreateParams{}, err
	}
	if f.name != "" && f.namePrefix != "" {
		return protocol.CodeCreateParams{}, usageError("give --name (one exact name) or --name-prefix (names starting with it), not both")
	}
	for flag, v := range map[string]*string{"--name": &f.name, "--name-prefix": &f.namePrefix} {
		if *v != "" {
			clean, err := protocol.CleanName(*v)
			if err != nil {
				return protocol.CodeCreateParams{}, usageError("%s %q: %v", flag, *v, err)
			}
			*v = clean
		}
	}
	if err := protocol.CheckReason("--note", f.note); err != nil {
		return protocol.CodeCreateParams{}, withCode(ExitUsage, err)
	}
	scope := protocol.CodeScope{Name: f.name, NamePrefix: f.namePrefix, AllowExec: f.allowExec}
	for _, pl := range f.platforms {
		pl = strings.TrimSpace(pl)
		if pl == "" || protocol.CheckText(pl) != nil || len(pl) > 64 {
			return protocol.CodeCreateParams{}, usageError("--platform %q: want a platform name such as linux, macos, windows, ios or android", pl)
		}
		scope.Platforms = append(scope.Platforms, pl)
	}
	for _, c := range f.cidrs {
		prefix, err := parseCIDR(c)
		if err != nil {
			return protocol.CodeCreateParams{}, err
		}
		scope.CIDRs = append(scope.CIDRs, prefix)
	}
	if len(scope.Platforms) > protocol.CodeMaxScopeItems || len(scope.CIDRs) > protocol.CodeMaxScopeItems {
		return protocol.CodeCreateParams{}, usageError("a code takes at most %d platforms and %d networks", protocol.CodeMaxScopeItems, protocol.CodeMaxScopeItems)
	}
	p := protocol.CodeCreateParams{TTLMs: f.ttl.Milliseconds(), MaxUses: f.uses, Scope: scope, Note: f.note}
	// The gateway's own check, last: what the flags' messages above did not
	// catch is still refused here, not by the gateway.
	if err := p.Check(); err != nil {
		return protocol.CodeCreateParams{}, withCode(ExitUsage, err)
	}
	return p, nil
}

// parseCIDR reads a --cidr value: a network (10.0.0.0/8, fd00::/8), or a
// single address, which means that address alone (/32 or /128).
func parseCIDR(s string) (string, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Masked() != p {
			return "", usageError("--cidr %s has host bits set: did you mean %s?", s, p.Masked())
		}
		return p.String(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()).String(), nil
	}
	return "", usageError("--cidr %q: want a network such as 192.168.1.0/24 or fd00::/8, or one address", s)
}

func (c *codesCmd) createCmd() *cobra.Command {
	f := &codeCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a setup code (shown once) with its setup link and QR code",
		Long: `Create a setup code and print it once, with the setup link (the code and
the gateway's address in one oc-pair:// string, which OpenClaw 2026.8+ node
hosts read too), its QR code (on a terminal; --no-qr leaves it out), and the
commands that pair a node with it without putting it on a command line.

The link names the gateway at --link-url, else the address the gateway
gives (serve --public-url, else the address it listens on), else the URL
this command reached it at. A link that names 127.0.0.1
only works on this machine: give --link-url ws://<an address the node
reaches>:<port> for another one. OpenClaw's node host refuses plain ws://
to a public address, so such a link needs wss:// (a TLS proxy).

Scope: --name or --name-prefix, --platform and --cidr restrict which
requests the code approves (each may be repeated or comma-separated). A
node declaring exec-class commands (system.run and the like) is approved
only by a code made with --allow-exec, which needs operator.admin; a
default OpenClaw node host declares them.

--json prints the code's record, the code and the link, and no QR code.`,
		Example: `  pairdeck codes create
  pairdeck codes create --name-prefix rack- --uses 8 --ttl 1h --cidr 10.4.0.0/16 --note "rack 4"
  pairdeck codes create --allow-exec --link-url ws://192.168.1.20:18789
  pairdeck codes create --json | jq -r .setupLink > link && chmod 600 link`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			params, err := f.params()
			if err != nil {
				return err
			}
			var linkURL string
			if f.linkURL != "" {
				if linkURL, err = checkLinkURL("--link-url", f.linkURL); err != nil {
					return err
				}
			}
			return c.run(cmd, writeAccess, func(ctx context.Context, s *session, op codesOperator, p *printer) error {
				res, err := op.CreateCode(ctx, params)
				if err != nil {
					return fmt.Errorf("create a setup code: %w", err)
				}
				link, where, err := setupLink(res, linkURL, s)
				if err != nil {
					return err
				}
				res.SetupLink = link
				if p.json {
					return p.JSON(res)
				}
				printCreatedCode(p, cmd, res, where, !f.noQR && p.tty)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.DurationVar(&f.ttl, "ttl", time.Duration(protocol.CodeDefaultTTLMs)*time.Millisecond, "how long the code can be used (1s to 720h)")
	fl.IntVar(&f.uses, "uses", 1, fmt.Sprintf("how many nodes it may approve (1 to %d)", protocol.CodeMaxUses))
	fl.StringVar(&f.name, "name", "", "approve only a node asking with exactly this name")
	fl.StringVar(&f.namePrefix, "name-prefix", "", "approve only nodes whose name starts with this")
	fl.StringSliceVar(&f.platforms, "platform", nil, "approve only nodes declaring one of these platforms (linux, macos, …)")
	fl.StringSliceVar(&f.cidrs, "cidr", nil, "approve only nodes connecting from these networks (10.0.0.0/8, or one address)")
	fl.BoolVar(&f.allowExec, "allow-exec", false, "also approve nodes declaring exec-class commands such as system.run (needs operator.admin)")
	fl.StringVar(&f.note, "note", "", "a note for the lists (what the code is for)")
	fl.BoolVar(&f.noQR, "no-qr", false, "do not draw the QR code")
	fl.StringVar(&f.linkURL, "link-url", "", "gateway URL to write into the setup link (default: the gateway's)")
	return cmd
}

// checkLinkURL checks a URL for setup links (flag names it: --link-url,
// serve's --public-url): ws:// or wss://, written the one way OpenClaw's
// node host accepts, and TLS for an address on the public internet (the
// host refuses plain ws:// there).
func checkLinkURL(flag, raw string) (string, error) {
	norm, err := protocol.NormalizeSetupURL(raw)
	if err != nil {
		return "", withCode(ExitUsage, fmt.Errorf("%s: %w", flag, err))
	}
	if u, _ := url.Parse(norm); u != nil && u.Scheme == "ws" && !privateHost(u.Hostname()) {
		return "", usageError("%s %s: a node host refuses plain ws:// to an address on the public internet; put the gateway behind TLS and give wss://…", flag, norm)
	}
	return norm, nil
}

// privateHost reports whether OpenClaw's node host allows plain ws:// to
// host: loopback, private, link-local and CGNAT (Tailscale) addresses,
// localhost, *.local and *.ts.net.
func privateHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".local") || strings.HasSuffix(h, ".ts.net") {
		return true
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return false
	}
	a = a.Unmap()
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || cgnat.Contains(a)
}

// linkPlace says what a setup link names, for the lines around it.
type linkPlace struct {
	url string
	// from says where the URL came from ("--link-url", "the gateway",
	// "the URL this command used").
	from string
	// thisMachine: the link names a loopback address.
	thisMachine bool
}

// setupLink is the link to print: built for --link-url, else the
// gateway's own (checked as a node host would read it), else built for the
// URL the session reached the gateway at. No URL at all: no link.
func setupLink(res protocol.CodeCreateResult, linkURL string, s *session) (string, linkPlace, error) {
	build := func(u, from string) (string, linkPlace, error) {
		link, err := protocol.EncodeSetupLink(protocol.SetupPayload{URL: u, BootstrapToken: res.Secret, ExpiresAtMs: res.Code.ExpiresAtMs})
		if err != nil {
			return "", linkPlace{}, fmt.Errorf("setup link: %w", err)
		}
		pu, _ := url.Parse(u)
		return link, linkPlace{url: u, from: from, thisMachine: pu != nil && isLoopbackHost(pu.Hostname())}, nil
	}
	if linkURL != "" {
		return build(linkURL, "--link-url")
	}
	if res.SetupLink != "" {
		if p, err := protocol.ParseSetupLink(res.SetupLink); err == nil {
			pu, _ := url.Parse(p.URL)
			return res.SetupLink, linkPlace{url: p.URL, from: "the gateway", thisMachine: pu != nil && isLoopbackHost(pu.Hostname())}, nil
		}
	}
	if s.url == "" {
		return "", linkPlace{}, nil
	}
	u, err := protocol.NormalizeSetupURL(s.url)
	if err != nil {
		return "", linkPlace{}, nil
	}
	return build(u, "the URL this command reached the gateway at")
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// printCreatedCode prints a new code: the code once, what it approves,
// the link, its QR code, and how a node uses it without a command line.
func printCreatedCode(p *printer, cmd *cobra.Command, res protocol.CodeCreateResult, where linkPlace, drawQR bool) {
	now := time.Now()
	code := res.Code
	p.Line("Created setup code %s: approves %s until %s (%s), %s.", code.ID,
		plural(code.MaxUses, "node"), time.UnixMilli(code.ExpiresAtMs).Format("Jan 02 15:04:05"),
		"in "+codeTimeLeft(now, code.ExpiresAtMs), scopeText(code.Scope))
	p.Line("")
	p.Line("  %s", res.Secret)
	p.Line("")
	p.Line("This is the only time the code is shown: the gateway keeps only its hash. Whoever holds it can pair")
	p.Line("a node within its scope until it expires, is used up, or is revoked (`pairdeck codes revoke %s`).", code.ID)
	if res.SetupLink != "" {
		p.Line("")
		p.Line("Setup link (the code and the gateway's address %s, from %s):", where.url, where.from)
		p.Line("  %s", res.SetupLink)
		if where.thisMachine {
			p.Line("It names this machine's loopback address: it works for a node on this machine only. For another one,")
			p.Line("create the code with --link-url ws://<an address the node reaches>:<port>.")
		}
		if drawQR {
			if drawing, err := qrDrawing(res.SetupLink); err == nil {
				p.Line("")
				fmt.Fprintln(p.out, drawing)
			} else {
				note(cmd.ErrOrStderr(), "no QR code: %v", err)
			}
		}
	} else {
		p.Line("")
		p.Line("No setup link: no gateway address is known here. Create the code with --link-url ws://HOST:PORT for one.")
	}
	p.Line("")
	p.Line("On the node, pair with it without putting it on a command line (ps would show it to other users):")
	args := "pairdeck node pair --code -"
	if code.Scope.Name != "" {
		args += " --name " + shellQuote(code.Scope.Name)
	} else if code.Scope.NamePrefix != "" {
		args += " --name " + shellQuote(code.Scope.NamePrefix+"NAME")
	}
	if res.SetupLink == "" {
		args += " --url ws://HOST:PORT"
	}
	p.Line("  %-58s # paste the setup link (or the code) when asked, or pipe it in", args)
	p.Line("  %-58s # or read it from a file (mode 0600)", strings.Replace(args, "--code -", "--code-file FILE", 1))
	if res.SetupLink != "" {
		p.Line("An OpenClaw 2026.8+ node host: save the setup link in a file only you can read (chmod 600), then")
		p.Line("  %-58s # reads the link, deletes the file, runs the node host", "openclaw connect --target-file FILE")
		p.Line("(`openclaw node run --pair LINK` does the same, with the link visible to ps; --pair-if-needed for supervised restarts.)")
		if !code.Scope.AllowExec {
			p.Line("A default OpenClaw node host declares exec commands (system.run, …), which this code does not allow: such a")
			p.Line("node waits for a person. Create the code with --allow-exec, or start the node host with --commands.")
		}
	}
}

// qrDrawing draws the link in colours that read on any theme, or plain
// blocks where colours are unwelcome (NO_COLOR, TERM=dumb): see tui/qr.
func qrDrawing(link string) (string, error) {
	if _, ok := os.LookupEnv("NO_COLOR"); ok || os.Getenv("TERM") == "dumb" {
		return qr.Render(link)
	}
	return qr.RenderColor(link)
}

// scopeText describes what a code approves, in words: "any name, any
// platform, any network, no exec commands".
func scopeText(sc protocol.CodeScope) string {
	var parts []string
	switch {
	case sc.Name != "":
		parts = append(parts, fmt.Sprintf("named %q", sc.Name))
	case sc.NamePrefix != "":
		parts = append(parts, fmt.Sprintf("names starting %q", sc.NamePrefix))
	default:
		parts = append(parts, "any name")
	}
	if len(sc.Platforms) > 0 {
		parts = append(parts, strings.Join(sc.Platforms, " or "))
	} else {
		parts = append(parts, "any platform")
	}
	if len(sc.CIDRs) > 0 {
		parts = append(parts, "from "+strings.Join(sc.CIDRs, ", "))
	} else {
		parts = append(parts, "any network")
	}
	if sc.AllowExec {
		parts = append(parts, "exec commands allowed")
	} else {
		parts = append(parts, "no exec commands")
	}
	return strings.Join(parts, ", ")
}

// scopeCell is scopeText for a table: only the restrictions, "-" for none.
func scopeCell(sc protocol.CodeScope) string {
	var parts []string
	switch {
	case sc.Name != "":
		parts = append(parts, "name "+sc.Name)
	case sc.NamePrefix != "":
		parts = append(parts, "name "+sc.NamePrefix+"*")
	}
	parts = append(parts, sc.Platforms...)
	parts = append(parts, sc.CIDRs...)
	if sc.AllowExec {
		parts = append(parts, "exec")
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// codeTimeLeft is how long a code has left: m:ss under an hour (the
// console's countdown), then hours and minutes, then days and hours.
func codeTimeLeft(now time.Time, expiresAtMs int64) string {
	left := time.UnixMilli(expiresAtMs).Sub(now)
	switch {
	case left <= 0:
		return "expired"
	case left < time.Hour:
		return countdown(now, expiresAtMs)
	case left < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(left.Hours()), int(left.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(left.Hours())/24, int(left.Hours())%24)
}

var codeColumns = []column{
	{title: "ID"},
	{title: "PREFIX", drop: 4},
	{title: "STATE"},
	{title: "USES"},
	{title: "EXPIRES"},
	{title: "SCOPE", cut: 8, grow: 2, drop: 2},
	{title: "NOTE", cut: 8, grow: 3, drop: 1},
	{title: "CREATED BY", cut: 10, grow: 1, drop: 3},
}

// codeRows are the table's rows: never the secret, only its prefix.
func codeRows(codes []protocol.SetupCode, now time.Time) [][]string {
	rows := make([][]string, 0, len(codes))
	for _, c := range codes {
		state := c.State(now.UnixMilli())
		expires := "-"
		if state == protocol.CodeActive {
			expires = "in " + codeTimeLeft(now, c.ExpiresAtMs)
		} else if state == protocol.CodeExpired {
			expires = "expired " + ago(now, c.ExpiresAtMs)
		}
		rows = append(rows, []string{c.ID, c.Prefix + "…", state, fmt.Sprintf("%d/%d", c.Uses, c.MaxUses), expires,
			scopeCell(c.Scope), orDash(c.Note), orDash(c.CreatedBy)})
	}
	return rows
}

func (c *codesCmd) listCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the setup codes that can still be used (never the codes themselves)",
		Long: `Show setup codes, newest first: id, the code's first 4 characters, state
(active, used-up, expired, revoked), uses, time left, scope, note and who
created it. --all shows used-up, expired and revoked codes too (the gateway
keeps them for a while). A code itself is never shown again.`,
		Example: `  pairdeck codes list
  pairdeck codes list --all --json | jq '.codes[] | select(.uses > 0)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.run(cmd, readAccess, func(ctx context.Context, s *session, op codesOperator, p *printer) error {
				codes, err := op.ListCodes(ctx, all)
				if err != nil {
					return fmt.Errorf("list setup codes: %w", err)
				}
				if p.json {
					return p.JSON(protocol.CodeListResult{Codes: nonNil(codes)})
				}
				if len(codes) == 0 {
					if all {
						p.Line("No setup codes.")
					} else {
						p.Line("No setup codes can be used (--all shows used-up, expired and revoked ones).")
					}
					return nil
				}
				p.Table(codeColumns, codeRows(codes, time.Now()))
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show used-up, expired and revoked codes too")
	return cmd
}

func (c *codesCmd) revokeCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke <id|prefix>",
		Short: "Revoke a setup code: it approves nothing from now on",
		Long: `Revoke a setup code, named by its id (c7k2m9qp), a unique prefix of its
id, or the first characters of the code as lists show them (K7QM). Nodes it
already approved stay paired: remove them with "pairdeck nodes remove".
--reason is kept in the history.`,
		Example: `  pairdeck codes revoke c7k2m9qp
  pairdeck codes revoke K7QM --reason "posted in the wrong channel"`,
		Args:              exactArgs(1, "a setup code: its id, an id prefix, or the code's first characters (see `pairdeck codes list`)"),
		ValidArgsFunction: c.completeCodes,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := protocol.CheckReason("--reason", reason); err != nil {
				return withCode(ExitUsage, err)
			}
			return c.run(cmd, writeAccess, func(ctx context.Context, s *session, op codesOperator, p *printer) error {
				codes, err := op.ListCodes(ctx, true)
				if err != nil {
					return fmt.Errorf("look up setup codes: %w", err)
				}
				code, err := pickCode(codes, args[0])
				if err != nil {
					return err
				}
				res, err := op.RevokeCode(ctx, protocol.CodeRevokeParams{ID: code.ID, Reason: reason})
				if err != nil {
					return fmt.Errorf("revoke setup code %s: %w", code.ID, err)
				}
				if p.json {
					return p.JSON(res)
				}
				if !res.Revoked {
					p.Line("Setup code %s (%s…) was already revoked.", res.Code.ID, res.Code.Prefix)
					return nil
				}
				p.Line("Revoked setup code %s (%s…, used %d of %d): it approves nothing from now on.", res.Code.ID, res.Code.Prefix, res.Code.Uses, res.Code.MaxUses)
				if res.Code.Uses > 0 {
					p.Line("The %s it approved stay paired (see `pairdeck nodes history --action approved`).", plural(res.Code.Uses, "node"))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the history")
	return cmd
}

// pickCode finds the code a revoke names: an exact id, else a unique id
// prefix (at least 3 characters), else a unique prefix of the code as
// lists show it (its first characters, case and dashes forgiven).
func pickCode(codes []protocol.SetupCode, query string) (protocol.SetupCode, error) {
	q := strings.TrimSpace(query)
	lower := strings.ToLower(q)
	upper := strings.ToUpper(strings.ReplaceAll(q, "-", ""))
	tiers := []struct {
		what  string
		match func(c protocol.SetupCode) bool
	}{
		{"id", func(c protocol.SetupCode) bool { return c.ID == lower }},
		{"id prefix", func(c protocol.SetupCode) bool { return len(lower) >= 3 && strings.HasPrefix(c.ID, lower) }},
		{"code prefix", func(c protocol.SetupCode) bool {
			return len(upper) >= 2 && c.Prefix != "" && strings.HasPrefix(strings.ReplaceAll(c.Prefix, "-", ""), upper)
		}},
	}
	for _, t := range tiers {
		var found []protocol.SetupCode
		for _, c := range codes {
			if t.match(c) {
				found = append(found, c)
			}
		}
		switch {
		case len(found) == 1:
			return found[0], nil
		case len(found) > 1:
			sort.Slice(found, func(i, j int) bool { return found[i].CreatedAtMs > found[j].CreatedAtMs })
			now := time.Now().UnixMilli()
			var lines []string
			for _, c := range found {
				lines = append(lines, fmt.Sprintf("%s  %s…  %s  %s", c.ID, c.Prefix, c.State(now), orDash(c.Note)))
			}
			return protocol.SetupCode{}, withDetails(fmt.Errorf("%q matches %d setup codes by %s: give the id", q, len(found), t.what), lines...)
		}
	}
	return protocol.SetupCode{}, fmt.Errorf("no setup code matches %q: see `pairdeck codes list --all`", q)
}

// completeCodes offers the codes that can be revoked (active ones) by id,
// described by prefix, uses, time left and note.
func (c *codesCmd) completeCodes(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	n := &nodesCmd{g: c.g, conn: c.conn}
	s, ctx, cancel := n.completionSession(cmd)
	if s == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	defer cancel()
	defer s.close()
	op, err := codesOp(s)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	codes, err := op.ListCodes(ctx, false)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return codeCompletions(codes, time.Now()), cobra.ShellCompDirectiveNoFileComp
}

func codeCompletions(codes []protocol.SetupCode, now time.Time) []cobra.Completion {
	out := make([]cobra.Completion, 0, len(codes))
	for _, c := range codes {
		desc := []string{c.Prefix + "…", fmt.Sprintf("%d/%d uses", c.Uses, c.MaxUses), "expires in " + codeTimeLeft(now, c.ExpiresAtMs)}
		if c.Note != "" {
			desc = append(desc, c.Note)
		}
		out = append(out, cobra.CompletionWithDesc(c.ID, completionText(strings.Join(desc, " · "))))
	}
	return out
}
