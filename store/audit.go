package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/pairdeck/pairdeck/internal/statefile"
	"github.com/pairdeck/pairdeck/protocol"
)

// Audit actions written by the store itself.
const (
	actionRequested = "requested"
	actionRefreshed = "refreshed"
	actionApproved  = "approved"
	actionRejected  = "rejected"
	actionExpired   = "expired"
	actionRenamed   = "renamed"
	actionRemoved   = "removed"
	// actionTokensConverted: ConvertTokens rewrote tokens in another form.
	actionTokensConverted = "tokens-converted"
)

// ttlActor is the actor of expiries: the TTL rule, not a person.
var ttlActor = Actor{Rule: "ttl"}

// auditEvent is one line of nodes/audit.jsonl. It never carries a token or
// a token hash.
type auditEvent struct {
	TS int64 `json:"ts"`
	// Seq is the journal commit the line belongs to: Open uses it to tell
	// which committed lines a crash kept out of the file (replay.go).
	Seq         uint64 `json:"seq,omitempty"`
	Action      string `json:"action"`
	RequestID   string `json:"requestId,omitempty"`
	NodeID      string `json:"nodeId,omitempty"`
	Actor       Actor  `json:"actor"`
	DisplayName string `json:"displayName,omitempty"`
	IsRepair    bool   `json:"isRepair,omitempty"`
	Decision    string `json:"decision,omitempty"`
	// Reason is an operator's optional reason for a decision
	// (protocol.CheckReason).
	Reason string `json:"reason,omitempty"`

	extra map[string]json.RawMessage // Audit's caller-supplied fields
}

func (ev *auditEvent) line() []byte {
	b, _ := marshalCompact(ev) // strings, ints and bools always marshal
	if len(ev.extra) > 0 {
		b = appendExtra(b, ev.extra)
	}
	return append(b, '\n')
}

// setFields merges Audit's fields into ev. The store's own members (ts,
// action, actor) cannot be overridden, and anything that looks like a secret
// is redacted rather than written.
func (ev *auditEvent) setFields(fields map[string]any) error {
	for k, v := range fields {
		switch k {
		case "ts", "seq", "action", "actor":
			continue
		case "requestId", "nodeId", "displayName", "decision":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%w: audit field %q must be a string", ErrInvalid, k)
			}
			switch k {
			case "requestId":
				ev.RequestID = s
			case "nodeId":
				ev.NodeID = s
			case "displayName":
				ev.DisplayName = s
			case "decision":
				ev.Decision = s
			}
			continue
		case "reason":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%w: audit field %q must be a string", ErrInvalid, k)
			}
			if err := protocol.CheckReason("reason", s); err != nil {
				return fmt.Errorf("%w: %w", ErrInvalid, err)
			}
			ev.Reason = s
			continue
		case "isRepair":
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("%w: audit field %q must be true or false", ErrInvalid, k)
			}
			ev.IsRepair = b
			continue
		}
		if looksSecret(k) {
			v = "[redacted]"
		}
		raw, err := marshalCompact(v)
		if err != nil {
			return fmt.Errorf("%w: audit field %q: %v", ErrInvalid, k, err)
		}
		if ev.extra == nil {
			ev.extra = map[string]json.RawMessage{}
		}
		ev.extra[k] = raw
	}
	return nil
}

func looksSecret(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "token") || strings.Contains(k, "secret") || strings.Contains(k, "password")
}

func validAction(action string) error {
	if action == "" || len(action) > 64 {
		return fmt.Errorf("%w: audit action must be 1 to 64 characters", ErrInvalid)
	}
	for _, r := range action {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%w: audit action %q has spaces or control characters", ErrInvalid, action)
		}
	}
	return nil
}

// auditLog appends lines to nodes/audit.jsonl. Lines are written once
// their batch is committed to the journal, without an fsync of their own:
// the journal holds them until a checkpoint, which fsyncs the log before
// it drops journal segments, and Open writes back whatever a crash kept
// out of the file (replay.go). When the file has grown past
// auditRotateBytes, the next checkpoint renames it to audit.<n>.jsonl (n
// counting up, so a name always means the same lines) and starts a new
// one; the auditKeep newest of those are kept.
type auditLog struct {
	dir     string
	f       *os.File
	path    string
	size    int64
	rotated []uint64 // audit.<n>.jsonl present, oldest first
	log     *slog.Logger
}

// Variables so that tests can rotate sooner.
var (
	auditRotateBytes int64 = 16 << 20
	auditKeep              = 4
)

func openAudit(dir string, log *slog.Logger) (*auditLog, error) {
	a := &auditLog{dir: dir, path: filepath.Join(dir, auditFile), log: log}
	var err error
	if a.rotated, err = listRotatedAudit(dir); err != nil {
		return nil, err
	}
	if err := a.open(); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *auditLog) open() error {
	f, err := statefile.OpenPrivate(a.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, a.log)
	if err != nil {
		return fmt.Errorf("open audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open audit log: %w", err)
	}
	a.f, a.size = f, st.Size()
	return nil
}

// cutTornLine removes a last line without its newline: a crash in the
// middle of a write. If its batch was committed, the line is in the
// journal and is written again whole (replay.go); if not, it must go.
func (a *auditLog) cutTornLine() error {
	if a.size == 0 {
		return nil
	}
	const chunk = 64 << 10
	end := a.size
	buf := make([]byte, chunk)
	for end > 0 {
		start := max(end-chunk, 0)
		n, err := a.f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return fmt.Errorf("read %s: %w", a.path, err)
		}
		b := buf[:n]
		if end == a.size && len(b) > 0 && b[len(b)-1] == '\n' {
			return nil
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return a.truncate(start + int64(i) + 1)
		}
		end = start
	}
	return a.truncate(0)
}

func (a *auditLog) truncate(size int64) error {
	if err := a.f.Truncate(size); err != nil {
		return fmt.Errorf("cut %s back to byte %d: %w", a.path, size, err)
	}
	a.size = size
	return nil
}

// write appends committed lines. A short or failed write is reported with
// how much was written, so the caller can write the rest later.
func (a *auditLog) write(s *Store, lines []byte) (int, error) {
	if err := s.fault("audit"); err != nil {
		return 0, writeError(a.path, err)
	}
	n, err := a.f.Write(lines)
	a.size += int64(n)
	if err != nil {
		return n, writeError(a.path, err)
	}
	return n, nil
}

// sync makes the lines written so far durable.
func (a *auditLog) sync() error { return a.f.Sync() }

// rotate renames audit.jsonl to audit.<n>.jsonl (after making it durable,
// so the newest file never follows a gap) and starts an empty one, then
// removes rotated files beyond auditKeep.
func (a *auditLog) rotate(s *Store) error {
	if err := a.f.Sync(); err != nil {
		return writeError(a.path, err)
	}
	n := a.currentNumber()
	dst := filepath.Join(a.dir, rotatedAuditName(n))
	if err := os.Rename(a.path, dst); err != nil {
		return writeError(a.path, err)
	}
	a.f.Close()
	a.rotated = append(a.rotated, n)
	if err := a.open(); err != nil {
		return err
	}
	if err := s.syncDir(); err != nil {
		return err
	}
	for len(a.rotated) > auditKeep {
		old := filepath.Join(a.dir, rotatedAuditName(a.rotated[0]))
		if err := os.Remove(old); err != nil && !errors.Is(err, fs.ErrNotExist) {
			a.log.Warn("remove old audit log", "path", old, "err", err)
			break
		}
		a.rotated = a.rotated[1:]
	}
	return nil
}

// currentNumber is the number audit.jsonl will have once rotated.
func (a *auditLog) currentNumber() uint64 {
	if len(a.rotated) == 0 {
		return 1
	}
	return a.rotated[len(a.rotated)-1] + 1
}

func (a *auditLog) close() error { return a.f.Close() }

// rotatedAuditName is the name of rotated audit log n.
func rotatedAuditName(n uint64) string { return "audit." + strconv.FormatUint(n, 10) + ".jsonl" }

func parseRotatedAuditName(name string) (uint64, bool) {
	mid, ok := strings.CutPrefix(name, "audit.")
	if !ok {
		return 0, false
	}
	mid, ok = strings.CutSuffix(mid, ".jsonl")
	if !ok || mid == "" || (len(mid) > 1 && mid[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(mid, 10, 64)
	return n, err == nil && n > 0
}

// listRotatedAudit returns the numbers of the rotated audit logs in dir,
// oldest first.
func listRotatedAudit(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []uint64
	for _, e := range entries {
		if n, ok := parseRotatedAuditName(e.Name()); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}
