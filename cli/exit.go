package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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

// reportError prints one actionable line to stderr.
func reportError(w io.Writer, err error) {
	if err == nil || errors.Is(err, errSilent) || err.Error() == "" {
		return
	}
	fmt.Fprintf(w, "pairdeck: %s\n", err)
}

var stderr io.Writer = os.Stderr
