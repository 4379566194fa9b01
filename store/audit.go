package store

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"unicode"

	"github.com/pairdeck/pairdeck/internal/statefile"
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
)

// ttlActor is the actor of expiries: the TTL rule, not a person.
var ttlActor = Actor{Rule: "ttl"}

// auditEvent is one line of nodes/audit.jsonl. It never carries a token or
// a token hash.
type auditEvent struct {
	TS          int64  `json:"ts"`
	Action      string `json:"action"`
	RequestID   string `json:"requestId,omitempty"`
	NodeID      string `json:"nodeId,omitempty"`
	Actor       Actor  `json:"actor"`
	DisplayName string `json:"displayName,omitempty"`
	IsRepair    bool   `json:"isRepair,omitempty"`
	Decision    string `json:"decision,omitempty"`

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
		case "ts", "action", "actor":
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

// auditLog appends lines to nodes/audit.jsonl; a commit's lines go in one
// write followed by one fsync.
type auditLog struct {
	f    *os.File
	path string
	size int64
}

func openAudit(path string, log *slog.Logger) (*auditLog, error) {
	f, err := statefile.OpenPrivate(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, log)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	a := &auditLog{f: f, path: path, size: st.Size()}
	// A crash in the middle of an append can leave a torn last line; end it
	// so the next line starts on its own.
	if a.size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, a.size-1); err != nil && err != io.EOF {
			f.Close()
			return nil, fmt.Errorf("read audit log %s: %w", path, err)
		}
		if last[0] != '\n' {
			if _, err := f.Write([]byte("\n")); err != nil {
				f.Close()
				return nil, fmt.Errorf("repair audit log %s: %w", path, err)
			}
			a.size++
		}
	}
	return a, nil
}

// append writes lines durably; on failure the file is cut back to where it
// was so no line outlives a change that was not made.
func (a *auditLog) append(s *Store, lines []byte) error {
	if err := s.fault("audit"); err != nil {
		return writeError(a.path, err)
	}
	n, err := a.f.Write(lines)
	if err != nil {
		a.undo(a.size)
		return writeError(a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		a.undo(a.size)
		return writeError(a.path, err)
	}
	s.stats.syncs.Add(1)
	a.size += int64(n)
	return nil
}

// undo cuts the log back to size (best effort: it runs after a failure).
func (a *auditLog) undo(size int64) error {
	if err := a.f.Truncate(size); err != nil {
		return err
	}
	a.size = size
	return a.f.Sync()
}

func (a *auditLog) close() error { return a.f.Close() }
