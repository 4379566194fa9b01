package gateway

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// LookupToken finds the operator token the way ResolveToken does but never
// generates one: clients use it, and a client must not invent the token a
// gateway would later adopt.
func LookupToken(flagToken, stateDir string) (token, source string, err error) {
	if t := strings.TrimSpace(flagToken); t != "" {
		return t, TokenFromFlag, nil
	}
	if t := strings.TrimSpace(os.Getenv(EnvToken)); t != "" {
		return t, TokenFromEnv, nil
	}
	if t, err := tokenFromOpenClawConfig(stateDir); err != nil {
		return "", "", err
	} else if t != "" {
		return t, TokenFromConfig, nil
	}
	data, err := os.ReadFile(TokenFile(stateDir))
	switch {
	case err == nil && strings.TrimSpace(string(data)) != "":
		return strings.TrimSpace(string(data)), TokenFromFile, nil
	case err == nil || errors.Is(err, fs.ErrNotExist):
		return "", "", errors.New("no operator token: pass --token or set " + EnvToken)
	default:
		return "", "", fmt.Errorf("read operator token: %w", err)
	}
}
