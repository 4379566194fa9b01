package policy

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pairdeck/pairdeck/internal/atomicfile"
	"github.com/pairdeck/pairdeck/internal/statefile"
	"github.com/pairdeck/pairdeck/protocol"
)

// accessVersion is the access.json format.
const accessVersion = 1

// accessFile is the content of access.json.
type accessFile struct {
	Version int                             `json:"version"`
	Pairing Switch                          `json:"pairing"`
	Blocked map[string]protocol.BlockedNode `json:"blocked"`
}

// Switch is the remembered pairing switch. Its zero value is "on", so a
// state dir without access.json pairs.
type Switch struct {
	Disabled    bool   `json:"disabled"`
	ChangedAtMs int64  `json:"changedAtMs,omitempty"`
	ChangedBy   string `json:"changedBy,omitempty"`
}

// State is the switch as the wire shows it.
func (s Switch) State() protocol.PairingState {
	return protocol.PairingState{Enabled: !s.Disabled, ChangedAtMs: s.ChangedAtMs, ChangedBy: s.ChangedBy}
}

// Access is the gateway's own policy state — the pairing switch and the
// block list — in memory and in access.json. It is safe for concurrent use.
// Every change is on disk before the call returns, except the counters of
// refused attempts: Refuse only marks them, and they are written with the
// next change or Flush, so a blocked node hammering the gateway costs no
// disk writes.
type Access struct {
	path string

	mu    sync.Mutex
	state accessFile
	dirty bool // counters changed since the last write
}

// maxAccessBytes bounds what is read of access.json: tens of thousands of
// blocked nodes.
const maxAccessBytes = 16 << 20

// OpenAccess loads access.json from dir. A missing file is pairing on and
// nobody blocked; a corrupt one is a *CorruptError.
func OpenAccess(dir string) (*Access, error) {
	a := &Access{path: filepath.Join(dir, AccessFileName)}
	a.state = accessFile{Version: accessVersion, Blocked: map[string]protocol.BlockedNode{}}
	data, err := statefile.Read(a.path, maxAccessBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return nil, readError(a.path, err)
	}
	var f accessFile
	if err := decodeStrict(a.path, data, &f); err != nil {
		return nil, err
	}
	if f.Version != accessVersion {
		return nil, corruptAt(a.path, data, offsetOf(data, "version"),
			fmt.Sprintf("version %d is not one this pairdeck reads (want %d)", f.Version, accessVersion))
	}
	if f.Blocked == nil {
		f.Blocked = map[string]protocol.BlockedNode{}
	}
	for id, b := range f.Blocked {
		if b.NodeID == "" {
			b.NodeID = id
		}
		if b.NodeID != id {
			return nil, corruptAt(a.path, data, offsetOf(data, "blocked", id),
				fmt.Sprintf("entry %q has nodeId %q; they must be the same", id, b.NodeID))
		}
		f.Blocked[id] = b
	}
	a.state = f
	return a, nil
}

// Path is access.json.
func (a *Access) Path() string { return a.path }

// Pairing returns the switch.
func (a *Access) Pairing() Switch {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.Pairing
}

// SetPairing switches pairing on or off and writes it down. changed is
// false (and nothing is written) when it already was so.
func (a *Access) SetPairing(on bool, by string, now time.Time) (s Switch, changed bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.state.Pairing
	if old.Disabled == !on {
		return old, false, nil
	}
	a.state.Pairing = Switch{Disabled: !on, ChangedAtMs: now.UnixMilli(), ChangedBy: by}
	if err := a.writeLocked(); err != nil {
		a.state.Pairing = old
		return old, false, err
	}
	return a.state.Pairing, true, nil
}

// ID normalises a node id for the block list: node ids are lower-case hex.
func ID(nodeID string) string { return strings.ToLower(strings.TrimSpace(nodeID)) }

// Block adds a node id to the block list and writes it down. Blocking a
// node that is already blocked keeps its entry and counters (created is
// false), taking a name if it had none.
func (a *Access) Block(nodeID, name, by string, now time.Time) (b protocol.BlockedNode, created bool, err error) {
	return a.BlockWithReason(nodeID, name, by, "", now)
}

// BlockWithReason is Block with the operator's reason kept in the entry;
// blocking again keeps the first reason, taking one if it had none.
func (a *Access) BlockWithReason(nodeID, name, by, reason string, now time.Time) (b protocol.BlockedNode, created bool, err error) {
	id := ID(nodeID)
	if id == "" {
		return b, false, fmt.Errorf("%w: a node id is required", ErrInvalid)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.state.Blocked[id]; ok {
		if (old.DisplayName != "" || name == "") && (old.Reason != "" || reason == "") {
			return old, false, nil
		}
		b = old
		if b.DisplayName == "" {
			b.DisplayName = name
		}
		if b.Reason == "" {
			b.Reason = reason
		}
		a.state.Blocked[id] = b
		if err := a.writeLocked(); err != nil {
			a.state.Blocked[id] = old
			return old, false, err
		}
		return b, false, nil
	}
	b = protocol.BlockedNode{NodeID: id, DisplayName: name, BlockedAtMs: now.UnixMilli(), BlockedBy: by, Reason: reason}
	a.state.Blocked[id] = b
	if err := a.writeLocked(); err != nil {
		delete(a.state.Blocked, id)
		return protocol.BlockedNode{}, false, err
	}
	return b, true, nil
}

// ErrNotBlocked is Unblock's answer for a node id that is not blocked.
var ErrNotBlocked = errors.New("node is not blocked")

// Unblock removes a node id from the block list and writes it down. It
// returns the entry as it was.
func (a *Access) Unblock(nodeID string) (protocol.BlockedNode, error) {
	id := ID(nodeID)
	a.mu.Lock()
	defer a.mu.Unlock()
	old, ok := a.state.Blocked[id]
	if !ok {
		return protocol.BlockedNode{}, fmt.Errorf("%w: %s", ErrNotBlocked, nodeID)
	}
	delete(a.state.Blocked, id)
	if err := a.writeLocked(); err != nil {
		a.state.Blocked[id] = old
		return protocol.BlockedNode{}, err
	}
	return old, nil
}

// Blocked reports whether a node id is blocked, with its entry.
func (a *Access) Blocked(nodeID string) (protocol.BlockedNode, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.state.Blocked[ID(nodeID)]
	return b, ok
}

// Refuse counts a refused request from a blocked node: attempts, when,
// and from where. It reports false for a node that is not blocked. It
// writes nothing; see Flush.
func (a *Access) Refuse(nodeID, remoteIP string, now time.Time) (protocol.BlockedNode, bool) {
	id := ID(nodeID)
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.state.Blocked[id]
	if !ok {
		return b, false
	}
	b.Attempts++
	b.LastAttemptMs = now.UnixMilli()
	if remoteIP != "" {
		b.LastRemoteIP = remoteIP
	}
	a.state.Blocked[id] = b
	a.dirty = true
	return b, true
}

// List returns the block list, most recently blocked first.
func (a *Access) List() []protocol.BlockedNode {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]protocol.BlockedNode, 0, len(a.state.Blocked))
	for _, b := range a.state.Blocked {
		out = append(out, b)
	}
	slices.SortFunc(out, func(x, y protocol.BlockedNode) int {
		if c := cmp.Compare(y.BlockedAtMs, x.BlockedAtMs); c != 0 {
			return c
		}
		return strings.Compare(x.NodeID, y.NodeID)
	})
	return out
}

// Flush writes counters that changed since the last write.
func (a *Access) Flush() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.dirty {
		return nil
	}
	return a.writeLocked()
}

func (a *Access) writeLocked() error {
	data, err := json.MarshalIndent(a.state, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", a.path, err)
	}
	if err := atomicfile.Write(a.path, append(data, '\n')); err != nil {
		return err
	}
	a.dirty = false
	return nil
}
