package cli

import (
	"fmt"
	"os"
	"path/filepath"
)

// resolveStateDir applies --state-dir > OPENCLAW_STATE_DIR > ~/.openclaw. A
// leading ~ is expanded: a shell does not expand it in
// OPENCLAW_STATE_DIR='~/x' or --state-dir=~/x, and a dir literally named
// ~ is never what was meant.
func (g *globals) resolveStateDir() (string, error) {
	dir := g.stateDir
	if dir == "" {
		dir = os.Getenv("OPENCLAW_STATE_DIR")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state dir: set --state-dir or OPENCLAW_STATE_DIR (%w)", err)
		}
		dir = filepath.Join(home, ".openclaw")
	}
	dir, err := expandHome(dir)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("state dir %s: %w", dir, err)
	}
	return abs, nil
}
