package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// Setup codes (issue 16). An operator creates a code ahead of time; a node
// presenting it with its pair request is approved within the code's scope
// (redeem.go). Codes are changed like everything else: through a tx, in
// the journal (entries codePut/codeDel) and checkpointed to
// nodes/codes.json (codesfile.go).
//
// Only the SHA-256 of a secret's canonical form (protocol.NormalizeCode)
// is kept, in memory and on disk; the secret itself is returned once, by
// CreateCode. A presented secret is hashed, looked up by its hash, and the
// stored hash compared with crypto/subtle.
//
// A code that can no longer approve anyone is kept for codeRetention after
// it expired or was revoked (whichever came first), so lists can say what
// became of it; the next CreateCode or RevokeCode drops older ones. At most
// protocol.CodeMaxActive codes can be active at once, and at most
// maxStoredCodes kept in all (the oldest ended ones go first).

// codeRetention: how long an expired or revoked code stays listed.
var codeRetention = 7 * 24 * time.Hour

// maxStoredCodes bounds codes.json: active codes plus ended ones kept for
// codeRetention. Past it, CreateCode drops the ended codes that ended
// first.
const maxStoredCodes = 10 * protocol.CodeMaxActive

// Audit actions of codes.
const (
	actionCodeCreated = "code.created"
	actionCodeRevoked = "code.revoked"
	actionCodeRefused = "code.refused"
)

var (
	// ErrUnknownCode: no code has that id (it never existed, or ended
	// more than codeRetention ago).
	ErrUnknownCode = errors.New("unknown setup code")
	// ErrTooManyCodes: protocol.CodeMaxActive codes are active already.
	ErrTooManyCodes = errors.New("too many active setup codes")
)

// codeRecord is a code as codes.json and the journal hold it: what lists
// show, the secret's hash, and why it was revoked.
type codeRecord struct {
	protocol.SetupCode
	SHA256       string `json:"sha256"`
	RevokeReason string `json:"revokeReason,omitempty"`
}

type codeEntry struct {
	rec    codeRecord
	digest [sha256.Size]byte
	extra  map[string]json.RawMessage // members a newer pairdeck wrote, kept as they were
	raw    []byte                     // `  "id": {…}` as codes.json holds it
	bodyAt int
}

func (e *codeEntry) body() []byte { return e.raw[e.bodyAt:] }

func (e *codeEntry) encode() error {
	raw, at, err := encodeMember(e.rec.ID, &e.rec, e.extra)
	if err != nil {
		return fmt.Errorf("encode setup code %s: %w", e.rec.ID, err)
	}
	e.raw, e.bodyAt = raw, at
	return nil
}

// view is the code as callers see it: never the hash, lists not shared.
func (e *codeEntry) view() protocol.SetupCode {
	c := e.rec.SetupCode
	c.UsedBy = slices.Clone(c.UsedBy)
	c.Scope.Platforms = slices.Clone(c.Scope.Platforms)
	c.Scope.CIDRs = slices.Clone(c.Scope.CIDRs)
	return c
}

// endedAt is when the code stopped being usable by time or by an
// operator (0: neither yet). A used-up code still lets the nodes it
// approved present it again until it expires (redeem.go), so it ends at
// its expiry too.
func (c *codeRecord) endedAt(nowMs int64) int64 {
	switch {
	case c.RevokedAtMs != 0 && c.RevokedAtMs < c.ExpiresAtMs:
		return c.RevokedAtMs
	case nowMs >= c.ExpiresAtMs:
		return c.ExpiresAtMs
	}
	return 0
}

type codeTable struct {
	byID   map[string]*codeEntry
	byHash map[[sha256.Size]byte]*codeEntry
}

func newCodeTable() *codeTable {
	return &codeTable{byID: map[string]*codeEntry{}, byHash: map[[sha256.Size]byte]*codeEntry{}}
}

func (t *codeTable) put(e *codeEntry) {
	if old := t.byID[e.rec.ID]; old != nil {
		delete(t.byHash, old.digest)
	}
	t.byID[e.rec.ID] = e
	t.byHash[e.digest] = e
}

func (t *codeTable) remove(id string) {
	if old := t.byID[id]; old != nil {
		delete(t.byHash, old.digest)
		delete(t.byID, id)
	}
}

// sorted is every code, oldest first (codes.json's order).
func (t *codeTable) sorted() []*codeEntry {
	out := make([]*codeEntry, 0, len(t.byID))
	for _, e := range t.byID {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *codeEntry) int {
		return cmp.Or(cmp.Compare(a.rec.CreatedAtMs, b.rec.CreatedAtMs), cmp.Compare(a.rec.ID, b.rec.ID))
	})
	return out
}

// codeDigest is what is stored of a secret; ok is false for text that
// cannot be a code.
func codeDigest(secret string) (digest [sha256.Size]byte, ok bool) {
	canon, err := protocol.NormalizeCode(secret)
	if err != nil {
		return digest, false
	}
	return sha256.Sum256([]byte(canon)), true
}

// lookupCode finds the code a secret belongs to (nil: none). The map is
// keyed by the hash, so the lookup itself reveals nothing about the
// secret; the constant-time compare makes the match not depend on how the
// map found it either.
func (t *codeTable) lookup(secret string) *codeEntry {
	d, ok := codeDigest(secret)
	if !ok {
		return nil
	}
	e := t.byHash[d]
	if e == nil || subtle.ConstantTimeCompare(e.digest[:], d[:]) != 1 {
		return nil
	}
	return e
}

// putCode stores rec (a new code, or a change to one) in the batch.
func (tx *tx) putCode(rec codeRecord, digest [sha256.Size]byte, extra map[string]json.RawMessage) error {
	e := &codeEntry{rec: rec, digest: digest, extra: extra}
	if err := e.encode(); err != nil {
		return err
	}
	tx.s.codes.put(e)
	tx.markCode(rec.ID)
	return nil
}

func (tx *tx) dropCode(id string) {
	tx.s.codes.remove(id)
	tx.markCode(id)
}

// sweepCodes drops codes that ended more than codeRetention ago and, past
// maxStoredCodes (less room for one more), the ended codes that ended
// first.
func (tx *tx) sweepCodes(room int) {
	t := tx.s.codes
	cutoff := tx.nowMs - codeRetention.Milliseconds()
	var ended []*codeEntry
	for _, e := range t.sorted() {
		at := e.rec.endedAt(tx.nowMs)
		switch {
		case at == 0:
		case at <= cutoff:
			tx.dropCode(e.rec.ID)
		default:
			ended = append(ended, e)
		}
	}
	slices.SortStableFunc(ended, func(a, b *codeEntry) int {
		return cmp.Compare(a.rec.endedAt(tx.nowMs), b.rec.endedAt(tx.nowMs))
	})
	for over := len(t.byID) + room - maxStoredCodes; over > 0 && len(ended) > 0; over-- {
		tx.dropCode(ended[0].rec.ID)
		ended = ended[1:]
	}
}

// CreateCode creates a setup code: the store draws the secret and the id,
// keeps only the secret's SHA-256, and returns the secret this once.
// p's zero TTL and uses mean protocol.CodeDefaultTTLMs and 1. The actor's
// String form is kept as the code's creator (it becomes part of the actor
// of every approval the code makes). then, if not nil, is handed the code
// once it is durable, in commit order.
//
// Errors: ErrInvalid (p.Check names the field), ErrTooManyCodes.
func (s *Store) CreateCode(ctx context.Context, actor Actor, p protocol.CodeCreateParams, then func(protocol.SetupCode)) (code protocol.SetupCode, secret string, err error) {
	if err := p.Check(); err != nil {
		return code, "", fmt.Errorf("create setup code: %w: %w", ErrInvalid, err)
	}
	if p.TTLMs == 0 {
		p.TTLMs = protocol.CodeDefaultTTLMs
	}
	if p.MaxUses == 0 {
		p.MaxUses = 1
	}
	secret, err = protocol.NewCodeSecret()
	if err != nil {
		return code, "", fmt.Errorf("create setup code: %w", err)
	}
	digest, _ := codeDigest(secret)
	var after func()
	if then != nil {
		after = func() { then(code) }
	}
	err = s.submit(ctx, func(tx *tx) error {
		tx.sweepCodes(1)
		active := 0
		for _, e := range tx.s.codes.byID {
			if e.rec.State(tx.nowMs) == protocol.CodeActive {
				active++
			}
		}
		if active >= protocol.CodeMaxActive {
			return fmt.Errorf("%w: %d codes can still be used, the most a gateway keeps: revoke some (pairdeck codes list shows them)", ErrTooManyCodes, active)
		}
		if tx.s.codes.byHash[digest] != nil {
			return fmt.Errorf("a fresh secret matched an existing code: the system's random numbers are broken")
		}
		id, err := protocol.NewCodeID()
		for err == nil && tx.s.codes.byID[id] != nil {
			id, err = protocol.NewCodeID()
		}
		if err != nil {
			return err
		}
		rec := codeRecord{
			SetupCode: protocol.SetupCode{
				ID:          id,
				Prefix:      protocol.CodePrefix(secret),
				Scope:       cleanScope(p.Scope),
				Note:        p.Note,
				CreatedAtMs: tx.nowMs,
				CreatedBy:   actor.String(),
				ExpiresAtMs: tx.nowMs + p.TTLMs,
				MaxUses:     p.MaxUses,
			},
			SHA256: hex.EncodeToString(digest[:]),
		}
		if err := tx.putCode(rec, digest, nil); err != nil {
			return err
		}
		code = tx.s.codes.byID[id].view()
		tx.log(codeEvent(actionCodeCreated, actor, code, ""))
		return nil
	}, after)
	if err != nil {
		return protocol.SetupCode{}, "", fmt.Errorf("create setup code: %w", err)
	}
	return code, secret, nil
}

// cleanScope copies a checked scope, its platforms and CIDRs trimmed.
func cleanScope(s protocol.CodeScope) protocol.CodeScope {
	out := s
	out.Platforms, out.CIDRs = nil, nil
	for _, p := range s.Platforms {
		out.Platforms = append(out.Platforms, strings.TrimSpace(p))
	}
	for _, c := range s.CIDRs {
		out.CIDRs = append(out.CIDRs, strings.TrimSpace(c))
	}
	return out
}

// codeEvent is a code's audit line: id, prefix, scope, limits; never the
// secret or its hash.
func codeEvent(action string, actor Actor, c protocol.SetupCode, reason string) auditEvent {
	ev := auditEvent{Action: action, Actor: actor, Reason: reason}
	raw, _ := marshalCompact(struct { // strings, ints and bools always marshal
		ID          string             `json:"id"`
		Prefix      string             `json:"prefix"`
		Scope       protocol.CodeScope `json:"scope"`
		Note        string             `json:"note,omitempty"`
		ExpiresAtMs int64              `json:"expiresAtMs"`
		MaxUses     int                `json:"maxUses"`
		Uses        int                `json:"uses"`
	}{c.ID, c.Prefix, c.Scope, c.Note, c.ExpiresAtMs, c.MaxUses, c.Uses})
	ev.extra = map[string]json.RawMessage{"code": raw}
	return ev
}

// ListCodes lists the codes, newest first, never a secret: those that can
// still be used, or (all) those kept after they ended too.
func (s *Store) ListCodes(all bool) []protocol.SetupCode {
	nowMs := s.now().UnixMilli()
	cutoff := nowMs - codeRetention.Milliseconds()
	s.mu.RLock()
	defer s.mu.RUnlock()
	sorted := s.codes.sorted()
	out := make([]protocol.SetupCode, 0, len(sorted))
	for i := len(sorted) - 1; i >= 0; i-- {
		e := sorted[i]
		if e.rec.State(nowMs) != protocol.CodeActive {
			if at := e.rec.endedAt(nowMs); !all || (at != 0 && at <= cutoff) {
				continue
			}
		}
		out = append(out, e.view())
	}
	return out
}

// CodeByID returns a code by its id.
func (s *Store) CodeByID(id string) (protocol.SetupCode, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.codes.byID[id]
	if e == nil {
		return protocol.SetupCode{}, false
	}
	return e.view(), true
}

// RevokeCode revokes a code at once: it approves no one from now on, not
// even a node it approved before. Revoking a revoked code changes nothing
// (Revoked false). reason, optional, is kept (protocol.CheckReason) and
// written in the audit line. then, if not nil, is handed the result once
// durable, in commit order.
//
// Errors: ErrUnknownCode, ErrInvalid (the reason).
func (s *Store) RevokeCode(ctx context.Context, actor Actor, id, reason string, then func(protocol.CodeRevokeResult)) (protocol.CodeRevokeResult, error) {
	var res protocol.CodeRevokeResult
	if err := protocol.CheckReason("reason", reason); err != nil {
		return res, fmt.Errorf("revoke setup code %s: %w: %w", id, ErrInvalid, err)
	}
	var after func()
	if then != nil {
		after = func() { then(res) }
	}
	err := s.submit(ctx, func(tx *tx) error {
		tx.sweepCodes(0)
		e := tx.s.codes.byID[id]
		if e == nil {
			return fmt.Errorf("%w %s: pairdeck codes list --all shows the codes kept", ErrUnknownCode, id)
		}
		if e.rec.RevokedAtMs != 0 {
			res = protocol.CodeRevokeResult{Code: e.view()}
			return nil
		}
		rec := e.rec
		rec.SetupCode.UsedBy = slices.Clone(rec.UsedBy)
		rec.RevokedAtMs, rec.RevokedBy, rec.RevokeReason = tx.nowMs, actor.String(), reason
		if err := tx.putCode(rec, e.digest, e.extra); err != nil {
			return err
		}
		res = protocol.CodeRevokeResult{Code: tx.s.codes.byID[id].view(), Revoked: true}
		tx.log(codeEvent(actionCodeRevoked, actor, res.Code, reason))
		return nil
	}, after)
	if err != nil {
		return protocol.CodeRevokeResult{}, fmt.Errorf("revoke setup code %s: %w", id, err)
	}
	return res, nil
}
