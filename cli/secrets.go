package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/pflag"

	"github.com/pairdeck/pairdeck/gateway"
)

// Secrets on the command line are readable by every local user
// (/proc/PID/cmdline, ps), so pairdeck's documented ways to give a token
// are a file (--token-file, or - for stdin) and the environment. --token
// keeps working, and says what it costs.

// tokenFlags are the command-line ways to give the operator token.
type tokenFlags struct {
	token string
	file  string
}

// tokenFlagHelp is --token's warning, shared by every command that has it.
const tokenFlagHelp = "visible to every local user in the process list: prefer --token-file or $" + gateway.EnvToken

func (t *tokenFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&t.file, "token-file", "", "read the operator token from this file (- reads stdin)")
	fl.StringVar(&t.token, "token", "", "operator token ("+tokenFlagHelp+")")
}

// value returns the token the flags give and how it was given
// ("--token-file PATH", "--token"), or "", "" when neither was used (the
// environment and the state dir come next; see gateway.LookupToken).
func (t *tokenFlags) value(stdin io.Reader) (token, source string, err error) {
	switch {
	case t.file != "" && t.token != "":
		return "", "", usageError("give the operator token once: --token-file or --token, not both")
	case t.file != "":
		tok, err := readSecret(t.file, stdin, "operator token")
		if err != nil {
			return "", "", err
		}
		return tok, "--token-file " + t.file, nil
	case strings.TrimSpace(t.token) != "":
		return strings.TrimSpace(t.token), "--token", nil
	}
	return "", "", nil
}

// maxSecretBytes bounds a token file: tokens are tens of bytes, and a
// path given by mistake (a log, a device) must not be read whole.
const maxSecretBytes = 4096

// readSecret reads a token from path ("-": stdin): the first line, trimmed.
// It says which file when the file is missing, empty or too large.
func readSecret(path string, stdin io.Reader, what string) (string, error) {
	var r io.Reader
	name := path
	if path == "-" {
		r, name = stdin, "stdin"
	} else {
		p, err := expandHome(path)
		if err != nil {
			return "", err
		}
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", fmt.Errorf("%s file %s does not exist", what, p)
			}
			return "", fmt.Errorf("read %s: %w", what, err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() && fi.Mode()&os.ModeNamedPipe == 0 && fi.Mode()&os.ModeCharDevice == 0 {
			return "", fmt.Errorf("%s file %s is not a file", what, p)
		}
		r, name = f, p
	}
	data, err := io.ReadAll(io.LimitReader(r, maxSecretBytes+1))
	if err != nil {
		return "", fmt.Errorf("read %s from %s: %w", what, name, err)
	}
	if len(data) > maxSecretBytes {
		return "", fmt.Errorf("%s in %s is longer than %d bytes: is it the right file?", what, name, maxSecretBytes)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", fmt.Errorf("%s in %s is empty", what, name)
	}
	return tok, nil
}

// promptSecret reads a secret typed at the terminal, without echo.
func promptSecret(in *os.File, errOut io.Writer, prompt string) (string, error) {
	fmt.Fprint(errOut, prompt)
	b, err := term.ReadPassword(in.Fd())
	fmt.Fprintln(errOut)
	if err != nil {
		return "", fmt.Errorf("read from the terminal: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// stdinIsTerminal reports whether stdin is a terminal (a person typing)
// rather than a pipe or a file.
func stdinIsTerminal(in io.Reader) (*os.File, bool) {
	f, ok := in.(*os.File)
	return f, ok && term.IsTerminal(f.Fd())
}

// tokenSourceText says where gateway.ResolveToken found a token, for the
// start-up log (never the token).
func tokenSourceText(source, stateDir string) string {
	switch source {
	case gateway.TokenFromEnv:
		return "$" + gateway.EnvToken
	case gateway.TokenFromConfig:
		return filepath.Join(stateDir, "openclaw.json") + " (gateway.auth.token)"
	case gateway.TokenFromFile:
		return gateway.TokenFile(stateDir)
	case gateway.TokenFromGenerated:
		return "generated into " + gateway.TokenFile(stateDir)
	}
	return source
}

// expandHome expands a leading ~ or ~/ to the home directory, as a shell
// would have (a path given as --flag=~/x, or through the environment, was
// never seen by one).
func expandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", path, err)
	}
	return filepath.Join(home, strings.TrimPrefix(path, "~")), nil
}
