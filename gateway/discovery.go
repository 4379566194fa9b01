package gateway

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
)

// Environment and files the serve command reads.
const (
	EnvToken      = "OPENCLAW_GATEWAY_TOKEN"
	EnvPort       = "OPENCLAW_GATEWAY_PORT"
	DefaultListen = "127.0.0.1:18789"
)

// Where a token came from, as ResolveToken reports it.
const (
	TokenFromFlag      = "flag"
	TokenFromEnv       = "env"
	TokenFromConfig    = "config"    // gateway.auth.token in <state>/openclaw.json
	TokenFromFile      = "file"      // <state>/pairdeck/gateway.token, generated earlier
	TokenFromGenerated = "generated" // just written to <state>/pairdeck/gateway.token
)

// TokenFile is where a generated operator token is kept.
func TokenFile(stateDir string) string { return filepath.Join(stateDir, "pairdeck", "gateway.token") }

// RuntimeFile is where a running gateway announces itself.
func RuntimeFile(stateDir string) string { return filepath.Join(stateDir, "pairdeck", "gateway.json") }

// ResolveToken picks the gateway's operator token: --token, else
// $OPENCLAW_GATEWAY_TOKEN, else gateway.auth.token in <state>/openclaw.json,
// else the token in <state>/pairdeck/gateway.token, generating it (32
// random bytes, base64url, mode 0600 in a 0700 dir) on first start. source
// is one of the TokenFrom* constants; see TokenExplicit.
func ResolveToken(flagToken, stateDir string) (token, source string, err error) {
	token, source, err = LookupToken(flagToken, stateDir)
	if err == nil || !errors.Is(err, errNoToken) {
		return token, source, err
	}
	t, err := generateToken()
	if err != nil {
		return "", "", err
	}
	if err := writePrivate(TokenFile(stateDir), []byte(t+"\n")); err != nil {
		return "", "", fmt.Errorf("save generated operator token: %w", err)
	}
	return t, TokenFromGenerated, nil
}

var errNoToken = errors.New("no operator token")

// LookupToken finds the operator token a client should present, in the
// same order as ResolveToken, but never generates one: with none found it
// says where a token can come from.
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
	path := TokenFile(stateDir)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		t := strings.TrimSpace(string(data))
		if t == "" {
			return "", "", fmt.Errorf("operator token file %s is empty: delete it and restart the gateway to generate a new token, or give one with --token-file", path)
		}
		return t, TokenFromFile, nil
	case errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("%w: give one with --token-file or $%s, or start `pairdeck serve` once to generate %s", errNoToken, EnvToken, path)
	default:
		return "", "", fmt.Errorf("read operator token: %w", err)
	}
}

// TokenExplicit reports whether a token from source was chosen by the user
// (and so may guard a non-loopback bind).
func TokenExplicit(source string) bool {
	return source == TokenFromFlag || source == TokenFromEnv || source == TokenFromConfig
}

func tokenFromOpenClawConfig(stateDir string) (string, error) {
	path := filepath.Join(stateDir, "openclaw.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	var cfg struct {
		Gateway struct {
			Auth struct {
				Token json.RawMessage `json:"token"`
			} `json:"auth"`
		} `json:"gateway"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return "", fmt.Errorf("read gateway.auth.token from %s: %v (fix the file, or give the token with --token-file)", path, err)
	}
	return configSecret(cfg.Gateway.Auth.Token, "gateway.auth.token", path)
}

// envRef is OpenClaw's ${VAR} substitution in config strings.
var envRef = regexp.MustCompile(`\$\{([A-Z_][A-Z0-9_]*)\}`)

// configSecret reads the operator token of openclaw.json (see
// ConfigSecret).
func configSecret(raw json.RawMessage, key, path string) (string, error) {
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			return "", fmt.Errorf("%s in %s: %v", key, path, err)
		}
	}
	return ConfigSecret(v, key, path, "give the token with --token-file or $"+EnvToken)
}

// ConfigSecret reads a secret of openclaw.json as OpenClaw does, from its
// decoded value: a string with ${VAR} substituted from the environment, or
// an env secret reference {"source":"env","id":"VAR"}; nil is no secret.
// Anything it cannot follow is an error ending in how (what else to do)
// rather than a secret taken literally: "${OPENCLAW_GATEWAY_TOKEN}" as the
// operator token would be one anybody can guess.
func ConfigSecret(v any, key, path, how string) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		missing := ""
		out := envRef.ReplaceAllStringFunc(v, func(m string) string {
			name := envRef.FindStringSubmatch(m)[1]
			val, ok := os.LookupEnv(name)
			if !ok && missing == "" {
				missing = name
			}
			return val
		})
		if missing != "" {
			return "", fmt.Errorf("%s in %s refers to $%s, which is not set: set it, or %s", key, path, missing, how)
		}
		return strings.TrimSpace(out), nil
	case map[string]any:
		source, _ := v["source"].(string)
		id, _ := v["id"].(string)
		source, id = strings.TrimSpace(source), strings.TrimSpace(id)
		if source != "env" || id == "" {
			return "", fmt.Errorf("%s in %s is a secret reference (source %q) that pairdeck cannot follow: %s", key, path, source, how)
		}
		val, ok := os.LookupEnv(id)
		if !ok {
			return "", fmt.Errorf("%s in %s is read from $%s, which is not set: set it, or %s", key, path, id, how)
		}
		return strings.TrimSpace(val), nil
	}
	return "", fmt.Errorf("%s in %s is neither a string nor a secret reference: fix the file, or %s", key, path, how)
}

func generateToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate operator token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// writePrivate writes a file readable only by its owner, durably, in a dir
// only its owner can enter (tightened if it already existed).
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	return atomicfile.Write(path, data)
}

// ResolveListen picks the listen address: --listen (host:port, or a bare
// port meaning loopback), else $OPENCLAW_GATEWAY_PORT on 127.0.0.1, else
// 127.0.0.1:18789.
func ResolveListen(flagListen string) (string, error) {
	if l := strings.TrimSpace(flagListen); l != "" {
		if isPort(l) {
			return net.JoinHostPort("127.0.0.1", l), nil
		}
		// Port 0 asks the kernel for a free port (demos, tests).
		if _, port, err := net.SplitHostPort(l); err != nil || (!isPort(port) && port != "0") {
			return "", fmt.Errorf("--listen %q: want host:port (for example 127.0.0.1:18789) or a port", l)
		}
		return l, nil
	}
	if p := strings.TrimSpace(os.Getenv(EnvPort)); p != "" {
		if !isPort(p) {
			return "", fmt.Errorf("%s=%q: want a port number between 1 and 65535", EnvPort, p)
		}
		return net.JoinHostPort("127.0.0.1", p), nil
	}
	return DefaultListen, nil
}

func isPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535
}

// CheckBind refuses to listen beyond loopback unless the operator token was
// chosen explicitly (flag, environment or config): a generated token sits in
// a file nobody outside this machine knows about, so such a bind is most
// likely a mistake.
func CheckBind(addr string, tokenExplicit bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if isLoopback(host) || tokenExplicit {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without an explicit operator token: anyone who can reach it could try to pair; "+
		"give one with --token-file (or $%s) to expose the gateway, or listen on 127.0.0.1", addr, EnvToken)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Runtime is the discovery file a running gateway writes, so clients on the
// same machine can find it.
type Runtime struct {
	URL         string `json:"url"`
	PID         int    `json:"pid"`
	StartedAtMs int64  `json:"startedAtMs"`
	Version     string `json:"version"`
	// Alive is whether process PID exists now (not stored). A file whose
	// process is gone was left by a gateway that crashed: do not trust it.
	Alive bool `json:"-"`
}

// WriteRuntime writes <state>/pairdeck/gateway.json (mode 0600). A zero
// StartedAtMs is set to now.
func WriteRuntime(stateDir string, rt Runtime) error {
	if rt.StartedAtMs == 0 {
		rt.StartedAtMs = time.Now().UnixMilli()
	}
	data, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return err
	}
	if err := writePrivate(RuntimeFile(stateDir), append(data, '\n')); err != nil {
		return fmt.Errorf("write gateway runtime file: %w", err)
	}
	return nil
}

// RemoveRuntime deletes the discovery file on a clean shutdown; a missing
// file is not an error.
func RemoveRuntime(stateDir string) error {
	err := os.Remove(RuntimeFile(stateDir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove gateway runtime file: %w", err)
	}
	return nil
}

// ReadRuntime reads the discovery file and checks whether its process is
// alive. With no file the error wraps fs.ErrNotExist.
func ReadRuntime(stateDir string) (Runtime, error) {
	path := RuntimeFile(stateDir)
	data, err := os.ReadFile(path)
	if err != nil {
		return Runtime{}, fmt.Errorf("read gateway runtime file: %w", err)
	}
	var rt Runtime
	if err := json.Unmarshal(data, &rt); err != nil {
		return Runtime{}, fmt.Errorf("gateway runtime file %s is unreadable (%v): delete it; a running gateway rewrites it on start", path, err)
	}
	rt.Alive = processAlive(rt.PID)
	return rt, nil
}

// processAlive reports whether pid names a live process (one owned by
// another user counts).
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
