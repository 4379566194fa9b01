package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/protocol"
)

// codeFlags are node pair's setup code: --code - (typed at a prompt, or
// piped), --code-file FILE, or --code VALUE, which works but shows the code
// to every local user in the process list.
type codeFlags struct {
	value string
	file  string
}

func (f *codeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.value, "code", "", "a setup code or oc-pair:// link; - reads it from stdin, or asks for it on a terminal (a value here is visible to other users in ps)")
	cmd.Flags().StringVar(&f.file, "code-file", "", "read the setup code or link from this file")
}

func (f *codeFlags) given() bool { return f.value != "" || f.file != "" }

// setupInput is what a node was given: the code to present, and the
// gateway URL when it came as a link.
type setupInput struct {
	code string
	url  string
}

// read reads and checks the code. A link must still be valid (its
// expiresAtMs), as OpenClaw's node host checks before connecting.
func (f *codeFlags) read(cmd *cobra.Command, now time.Time) (setupInput, error) {
	if f.value != "" && f.file != "" {
		return setupInput{}, usageError("give the setup code once: --code or --code-file, not both")
	}
	var raw string
	var err error
	switch {
	case f.file != "":
		raw, err = readSecret(f.file, cmd.InOrStdin(), "setup code")
	case f.value == "-":
		if in, ok := stdinIsTerminal(cmd.InOrStdin()); ok {
			raw, err = promptSecret(in, cmd.ErrOrStderr(), "Setup code or link: ")
			if err == nil && raw == "" {
				err = usageError("no setup code typed")
			}
		} else if raw, err = readSecret("-", cmd.InOrStdin(), "setup code"); err != nil {
			err = withCode(ExitUsage, fmt.Errorf("%w: pipe the setup code or link on stdin, or give --code-file FILE", err))
		}
	default:
		raw = strings.TrimSpace(f.value)
		note(cmd.ErrOrStderr(), "warning: a setup code given with --code is visible to other users of this machine (ps); use --code - or --code-file FILE")
	}
	if err != nil {
		return setupInput{}, err
	}
	return parseSetupInput(raw, now)
}

// parseSetupInput reads a bare code (K7QM-2XHF-…, case, spaces and dashes
// forgiven) or a setup link (oc-pair://…, or its bare base64url part),
// whose code is presented as it is: a link made by OpenClaw carries a code
// of its own form.
func parseSetupInput(raw string, now time.Time) (setupInput, error) {
	if code, err := protocol.NormalizeCode(raw); err == nil {
		return setupInput{code: code}, nil
	}
	p, err := protocol.ParseSetupLink(raw)
	if err != nil {
		if errors.Is(err, protocol.ErrSetupLink) && !strings.HasPrefix(strings.ToLower(strings.TrimSpace(raw)), protocol.SetupLinkScheme) {
			return setupInput{}, withCode(ExitUsage, fmt.Errorf("%w, or an oc-pair:// setup link", protocol.ErrCodeSyntax))
		}
		return setupInput{}, withCode(ExitUsage, err)
	}
	if p.ExpiresAtMs > 0 && now.UnixMilli() >= p.ExpiresAtMs {
		return setupInput{}, fmt.Errorf("the setup link expired at %s: ask an operator for a new code (`pairdeck codes create`)",
			time.UnixMilli(p.ExpiresAtMs).Format("Jan 02 15:04:05"))
	}
	code := p.BootstrapToken
	if c, err := protocol.NormalizeCode(code); err == nil {
		code = c
	}
	return setupInput{code: code, url: p.URL}, nil
}
