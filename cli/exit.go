package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pairdeck/pairdeck/protocol"
)

// Exit codes, as scripts and CI expect from kubectl/gh/gum-like tools.
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitTimedOut    = 124
	ExitInterrupted = 130
)

// exitError carries a specific exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode attaches an exit code to err.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// usageError marks a mistake in how the command was called.
func usageError(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

// errSilent is returned when the command already said everything (e.g. a
// JSON error object on stdout) and only the exit code remains.
var errSilent = errors.New("")

// exitCode maps an error to the process exit code.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, context.DeadlineExceeded):
		return ExitTimedOut
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	default:
		return ExitFailed
	}
}

// detailedError is an error with lines printed below its message, such as
// the candidates of an ambiguous --node. Keeping them apart from the
// message keeps the message one line, whatever text it quotes.
type detailedError struct {
	err     error
	details []string
}

func (e *detailedError) Error() string { return e.err.Error() }
func (e *detailedError) Unwrap() error { return e.err }

// withDetails attaches lines of detail to err.
func withDetails(err error, details ...string) error {
	return &detailedError{err: err, details: details}
}

// reportError prints one actionable line to stderr, and the error's detail
// lines indented below it. Messages quote node names, addresses and
// gateway messages, so the line goes through protocol.Printable: a newline
// or an escape sequence in any of them is shown, never acted on.
func reportError(w io.Writer, err error) {
	if err == nil || errors.Is(err, errSilent) || err.Error() == "" {
		return
	}
	fmt.Fprintf(w, "pairdeck: %s\n", protocol.Printable(err.Error()))
	var d *detailedError
	if errors.As(err, &d) {
		for _, l := range d.details {
			fmt.Fprintf(w, "  %s\n", protocol.Printable(l))
		}
	}
}

var stderr io.Writer = os.Stderr
