package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/titanous/json5"

	"github.com/pairdeck/pairdeck/gateway"
	"github.com/pairdeck/pairdeck/internal/statefile"
)

// A state dir can belong to an OpenClaw install: the same OPENCLAW_STATE_DIR,
// the same default ~/.openclaw. OpenClaw's gateway does not honour
// nodes/.lock and keeps its pairing state in memory (4.12, 7.35) or in a
// database (2026.8+), so pairdeck must never edit those files behind its
// back: one owner per state dir. When the dir's openclaw.json names a
// gateway that answers, pairdeck's commands and console act through its
// socket, and `pairdeck serve` refuses to start a second owner.

// Environment variables OpenClaw reads, with the meaning it gives them.
const (
	envOpenClawPort       = "OPENCLAW_GATEWAY_PORT"
	envOpenClawPassword   = "OPENCLAW_GATEWAY_PASSWORD"
	envOpenClawConfigPath = "OPENCLAW_CONFIG_PATH"
	// openclawDefaultPort is OpenClaw's gateway port when neither the
	// environment nor openclaw.json names one.
	openclawDefaultPort = 18789
	// maxOpenClawConfigBytes bounds openclaw.json: real ones are a few
	// KiB; a path to a log or a device must not be read whole.
	maxOpenClawConfigBytes = 4 << 20
	// probeTimeout bounds the check that a gateway answers on a port. A
	// loopback gateway sends its challenge in milliseconds, but a busy one
	// (a Node event loop at work, a loaded machine) can take seconds, and
	// taking it for absent sends the user to start a gateway that runs. A
	// port where nothing listens is refused at once, so only a listener
	// that never speaks costs the whole wait.
	probeTimeout = 5 * time.Second
)

// openclawDir is what a state dir says about an OpenClaw install that owns
// it, and whether that install's gateway answers now.
type openclawDir struct {
	stateDir string
	// configPath is the openclaw.json read ("" when there is none).
	configPath string
	cfg        openclawConfig
	// port is where the dir's gateway listens, and portFrom why it is
	// that port ("$OPENCLAW_GATEWAY_PORT", "gateway.port in …", "OpenClaw's
	// default"); 0 when the dir names no OpenClaw gateway at all.
	port     int
	portFrom string
	// database names the file that shows the dir is OpenClaw 2026.8+'s,
	// which keeps pairing in a database pairdeck neither reads nor writes.
	database string
	// answers says a gateway sent its connect.challenge on port.
	answers bool
	// pid is the OpenClaw gateway's process id, from OpenClaw's own lock
	// file (0 when unknown).
	pid int
}

// openclawConfig is the part of openclaw.json pairdeck reads.
type openclawConfig struct {
	port           int
	mode           string // gateway.mode: local (default) or remote
	authMode       string // gateway.auth.mode: token, password, none, trusted-proxy
	authToken      secretField
	authPassword   secretField
	remoteURL      string
	remoteToken    secretField
	remotePassword secretField
	version        string // meta.lastTouchedVersion
}

// secretField is a credential in openclaw.json: a string (with OpenClaw's
// ${VAR} substitution) or a secret reference {source, provider, id}.
type secretField struct {
	key   string // its path in the file, for messages
	value any
}

// owned reports whether the dir names an OpenClaw gateway (openclaw.json,
// or OpenClaw's port variable).
func (d *openclawDir) owned() bool { return d.port != 0 }

// url is the dir's gateway on loopback.
func (d *openclawDir) url() string {
	return "ws://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(d.port))
}

// remote reports whether openclaw.json says this machine uses a gateway
// elsewhere (gateway.mode remote with gateway.remote.url).
func (d *openclawDir) remote() bool {
	return d.cfg.mode == "remote" && d.cfg.remoteURL != ""
}

// inspectOpenClaw reads what the state dir says about OpenClaw and, when
// it names a gateway port, checks whether a gateway answers there. It
// writes nothing.
func inspectOpenClaw(ctx context.Context, stateDir string) (*openclawDir, error) {
	d := &openclawDir{stateDir: stateDir}
	path := os.Getenv(envOpenClawConfigPath)
	if path == "" {
		path = filepath.Join(stateDir, "openclaw.json")
	} else if p, err := expandHome(path); err == nil {
		path = p
	}
	cfg, err := readOpenClawConfig(path)
	switch {
	case err == nil:
		d.configPath, d.cfg = path, cfg
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	d.database = openclawDatabase(stateDir, d.cfg.version)
	switch env := strings.TrimSpace(os.Getenv(envOpenClawPort)); {
	case env != "":
		n, err := strconv.Atoi(env)
		if err != nil || n < 1 || n > 65535 {
			return nil, usageError("$%s=%q: want a port number between 1 and 65535", envOpenClawPort, env)
		}
		d.port, d.portFrom = n, "$"+envOpenClawPort
	case d.cfg.port != 0:
		d.port, d.portFrom = d.cfg.port, "gateway.port in "+d.configPath
	case d.configPath != "" || d.database != "":
		d.port, d.portFrom = openclawDefaultPort, "OpenClaw's default port"
	default:
		return d, nil
	}
	if d.remote() && os.Getenv(envOpenClawPort) == "" {
		return d, nil // no gateway of this install runs here
	}
	d.answers = probeGateway(ctx, d.url())
	if d.answers && d.configPath != "" {
		d.pid = openclawGatewayPID(stateDir, d.configPath)
	}
	return d, nil
}

// readOpenClawConfig reads openclaw.json as OpenClaw does: JSON5 (comments,
// trailing commas, unquoted keys), bounded, a regular file. A symlink is
// followed: the file is the user's configuration, often kept elsewhere.
func readOpenClawConfig(path string) (openclawConfig, error) {
	var cfg openclawConfig
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return cfg, err
	}
	data, err := statefile.Read(target, maxOpenClawConfigBytes)
	if err != nil {
		return cfg, fmt.Errorf("read OpenClaw's config: %w", err)
	}
	var doc map[string]any
	if err := json5.Unmarshal(data, &doc); err != nil {
		return cfg, fmt.Errorf("%s is not valid JSON5 (%v): fix it (`openclaw doctor` checks it) so pairdeck can find the gateway it names", path, err)
	}
	gw, _ := doc["gateway"].(map[string]any)
	auth, _ := gw["auth"].(map[string]any)
	remote, _ := gw["remote"].(map[string]any)
	meta, _ := doc["meta"].(map[string]any)
	if v, ok := gw["port"]; ok {
		n, ok := portValue(v)
		if !ok {
			return cfg, fmt.Errorf("gateway.port in %s is %v: want a port number between 1 and 65535", path, v)
		}
		cfg.port = n
	}
	cfg.mode = stringValue(gw["mode"])
	cfg.authMode = stringValue(auth["mode"])
	cfg.authToken = secretField{"gateway.auth.token", auth["token"]}
	cfg.authPassword = secretField{"gateway.auth.password", auth["password"]}
	cfg.remoteURL = stringValue(remote["url"])
	cfg.remoteToken = secretField{"gateway.remote.token", remote["token"]}
	cfg.remotePassword = secretField{"gateway.remote.password", remote["password"]}
	cfg.version = stringValue(meta["lastTouchedVersion"])
	return cfg, nil
}

func stringValue(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

func portValue(v any) (int, bool) {
	var n int
	switch x := v.(type) {
	case float64:
		n = int(x)
		if float64(n) != x {
			return 0, false
		}
	case string:
		var err error
		if n, err = strconv.Atoi(strings.TrimSpace(x)); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return n, n >= 1 && n <= 65535
}

// resolve returns the credential's value ("" when the file has none), with
// ${VAR} substituted and env secret references read, as OpenClaw does. A
// reference pairdeck cannot follow (a file or a command) is an error that
// says how to give the secret instead.
func (s secretField) resolve(configPath, envVar, fileFlag string) (string, error) {
	return gateway.ConfigSecret(s.value, s.key, configPath, "give the secret with "+fileFlag+" or $"+envVar)
}

// openclawDatabase names the evidence that the dir belongs to OpenClaw
// 2026.8 or later (pairing in state/openclaw.sqlite; the JSON files it
// folded in renamed *.json.migrated; a config it last wrote), or "".
func openclawDatabase(stateDir, version string) string {
	db := filepath.Join(stateDir, "state", "openclaw.sqlite")
	if _, err := os.Lstat(db); err == nil {
		return db
	}
	for _, sub := range []string{"nodes", "devices"} {
		for _, name := range []string{"paired.json.migrated", "pending.json.migrated"} {
			p := filepath.Join(stateDir, sub, name)
			if _, err := os.Lstat(p); err == nil {
				return p
			}
		}
	}
	if databaseVersion(version) {
		return "openclaw.json (last written by OpenClaw " + version + ")"
	}
	return ""
}

// databaseVersion reports whether an OpenClaw version (YYYY.M.P) keeps
// pairing in its database: 2026.8 and later.
func databaseVersion(v string) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	year, err1 := strconv.Atoi(parts[0])
	month, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return year > 2026 || (year == 2026 && month >= 8)
}

// probeGateway reports whether a gateway answers at url: a WebSocket that
// opens and sends connect.challenge first, as OpenClaw's and pairdeck's
// gateways do. Nothing is sent; the socket is closed at once.
func probeGateway(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Timeout: probeTimeout}})
	if err != nil {
		return false
	}
	defer c.CloseNow()
	c.SetReadLimit(64 << 10)
	_, data, err := c.Read(ctx)
	if err != nil {
		return false
	}
	var f struct {
		Type  string `json:"type"`
		Event string `json:"event"`
	}
	return json.Unmarshal(data, &f) == nil && f.Type == "event" && f.Event == "connect.challenge"
}

// openclawGatewayPID reads the pid OpenClaw's gateway recorded in its lock
// file: <tmp>/openclaw-<uid>/gateway.<sha256(config path)[:8]>.lock (4.12,
// 7.35), or the same under <state>/tmp/ (2026.8+). 0 when none is alive.
func openclawGatewayPID(stateDir, configPath string) int {
	sum := sha256.Sum256([]byte(configPath))
	name := "gateway." + hex.EncodeToString(sum[:])[:8] + ".lock"
	user := "openclaw"
	if uid := os.Getuid(); uid >= 0 {
		user = "openclaw-" + strconv.Itoa(uid)
	}
	for _, p := range []string{
		filepath.Join(stateDir, "tmp", user, "gateway.state.lock"),
		filepath.Join(stateDir, "tmp", user, name),
		filepath.Join(os.TempDir(), user, name),
	} {
		data, err := statefile.Read(p, 64<<10)
		if err != nil {
			continue
		}
		var lock struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(data, &lock) == nil && lock.PID > 0 && processAlive(lock.PID) {
			return lock.PID
		}
	}
	return 0
}

// owner names the dir's gateway for messages: "the OpenClaw gateway on
// 127.0.0.1:18789 (pid 4242, port from …)".
func (d *openclawDir) owner() string {
	what := "the OpenClaw gateway"
	if d.configPath == "" {
		what = "a gateway"
	}
	return fmt.Sprintf("%s on 127.0.0.1:%d (%s)", what, d.port, d.detail())
}

// detail is the pid when known and where the port came from.
func (d *openclawDir) detail() string {
	var parts []string
	if d.pid > 0 {
		parts = append(parts, "pid "+strconv.Itoa(d.pid))
	}
	return strings.Join(append(parts, "port from "+d.portFrom), ", ")
}

// refuseServe is why pairdeck must not start a gateway on the dir,
// listening on addr, or nil.
func (d *openclawDir) refuseServe(addr string) error {
	switch {
	case d.answers && d.configPath == "":
		// Only $OPENCLAW_GATEWAY_PORT names it: it is in the way only if
		// pairdeck would listen on the same port.
		if _, port, err := net.SplitHostPort(addr); err == nil && port != strconv.Itoa(d.port) {
			return nil
		}
		return fmt.Errorf("%s is already listening there, so pairdeck cannot: attach to it with `pairdeck console` or `pairdeck nodes …` "+
			"(or --url %s), or pick another port with --listen", d.owner(), d.url())
	case d.answers:
		return fmt.Errorf("%s owns %s: pairdeck does not start a second gateway on the same state dir (OpenClaw does not "+
			"honour pairdeck's lock, and the two would overwrite each other's pairing state); attach to it instead: `pairdeck console` "+
			"and `pairdeck nodes …` find it on their own (from elsewhere: --url %s)", d.owner(), d.stateDir, d.url())
	case d.database != "":
		return d.databaseError()
	}
	return nil
}

// databaseError explains a 2026.8+ dir whose gateway does not answer.
func (d *openclawDir) databaseError() error {
	return fmt.Errorf("%s belongs to OpenClaw 2026.8 or later (%s): this OpenClaw keeps pairing in its database, which pairdeck "+
		"neither reads nor writes, so pairdeck leaves the dir alone; start its gateway (`openclaw gateway`) and pairdeck attaches "+
		"to it on its own on 127.0.0.1:%d (%s), or attach to a gateway with --url ws://HOST:PORT",
		d.stateDir, d.database, d.port, d.portFrom)
}

// processAlive reports whether pid names a live process (one owned by
// another user counts).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
