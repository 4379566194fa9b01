package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// The conventions of a command-line tool people already know from kubectl
// and gh: a version command, "did you mean" for a mistyped command, usage
// errors for what cannot be done, and messages that say what to type.

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print pairdeck's version, the Go it was built with, and the platform",
		Example: `  pairdeck version
  pairdeck version --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := versionInfo()
			p := newPrinter(cmd.OutOrStdout(), asJSON)
			if p.json {
				return p.JSON(v)
			}
			line := fmt.Sprintf("pairdeck %s (%s, %s/%s", v.Version, v.Go, v.OS, v.Arch)
			if v.Commit != "" {
				line += ", commit " + v.Commit
			}
			p.Line("%s)", line)
			p.Line("speaks the OpenClaw gateway protocol %d", protocolVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the version as JSON")
	return cmd
}

// protocolVersion is the gateway protocol pairdeck speaks.
const protocolVersion = 3

// versionJSON is `pairdeck version --json`.
type versionJSON struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Protocol int    `json:"protocol"`
}

func versionInfo() versionJSON {
	v := versionJSON{Version: Version, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, Protocol: protocolVersion}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v.Commit = s.Value[:12]
			}
		}
	}
	return v
}

// unknownCommand is the error for a word that names no subcommand of cmd,
// with the nearest ones when the word looks mistyped.
func unknownCommand(cmd *cobra.Command, word string) error {
	msg := fmt.Sprintf("unknown command %q for %q", word, cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default for its own suggestions
	}
	if s := cmd.SuggestionsFor(word); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
		if len(s) > 1 {
			msg = strings.TrimSuffix(msg, "?") + fmt.Sprintf(" (or %s)?", quoteAll(s[1:]))
		}
	}
	return usageError("%s (see %s --help)", msg, cmd.CommandPath())
}

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}

// fixCompletionCmd makes `pairdeck completion SHELL` refuse a shell it has
// no script for (exit 2) instead of printing help and succeeding.
func fixCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		var shells []string
		for _, sh := range c.Commands() {
			shells = append(shells, sh.Name())
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError("no completion script for %q: pairdeck has scripts for %s", args[0], strings.Join(shells, ", "))
			}
			return cmd.Help()
		}
	}
}

// checkGatewayURL refuses a gateway URL without a ws:// or wss:// scheme,
// saying what it probably meant. from names where the URL came from
// ("--url", "$OPENCLAW_GATEWAY_URL").
func checkGatewayURL(raw, from string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "ws" || u.Scheme == "wss") && u.Host != "" {
		return nil
	}
	switch {
	case err == nil && (u.Scheme == "http" || u.Scheme == "https"):
		return usageError("%s %q: a gateway is reached over WebSocket: use %s", from, raw, "ws"+strings.TrimPrefix(raw, "http"))
	case !strings.Contains(raw, "://"):
		return usageError("%s %q: want a WebSocket URL such as ws://%s (wss:// for a gateway behind TLS)", from, raw, strings.TrimPrefix(raw, "//"))
	}
	return usageError("%s %q: want a WebSocket URL, ws://HOST:PORT or wss://HOST:PORT", from, raw)
}

// gatewayURLFlag is the URL a command was pointed at and where that came
// from, checked.
func gatewayURLFlag(flag string) (raw, from string, err error) {
	raw, from = flag, "--url"
	if raw == "" {
		raw, from = os.Getenv("OPENCLAW_GATEWAY_URL"), "$OPENCLAW_GATEWAY_URL"
	}
	if raw == "" {
		return "", "", nil
	}
	return raw, from, checkGatewayURL(raw, from)
}

// explainTLS turns the TLS library's words for "this server does not speak
// TLS" into what happened and what to type.
func explainTLS(raw string, err error) error {
	var rh tls.RecordHeaderError
	msg := err.Error()
	if !errors.As(err, &rh) && !strings.Contains(msg, "server gave HTTP response to HTTPS client") &&
		!strings.Contains(msg, "first record does not look like a TLS handshake") {
		return err
	}
	plain := "ws" + strings.TrimPrefix(raw, "wss")
	return fmt.Errorf("the gateway at %s does not speak TLS (it answered in plain text): use %s", raw, plain)
}
