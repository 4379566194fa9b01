package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/pairdeck/pairdeck/protocol"
)

// nodes/codes.json, the checkpoint of the setup codes (mode 0600, like the
// other state files, written the same way: temp file, fsync, rename). One
// JSON object, members keyed by code id, oldest code first, two-space
// indented:
//
//	{
//	  "c7k2m9qpx": {
//	    "id": "c7k2m9qpx",
//	    "prefix": "K7QM",                first characters of the secret, for lists
//	    "scope": {"namePrefix": "lab-", "platforms": ["linux"], "cidrs": ["10.0.0.0/8"], "allowExec": false},
//	    "note": "lab rack 3",
//	    "createdAtMs": 1796573170809,
//	    "createdBy": "cli alice@laptop",
//	    "expiresAtMs": 1796573770809,
//	    "maxUses": 3,
//	    "uses": 1,
//	    "usedBy": ["node-id"],           nodes whose approval counted a use, oldest first
//	    "lastUsedAtMs": 1796573200000,
//	    "revokedAtMs": 0, "revokedBy": "", "revokeReason": "",   (when revoked)
//	    "sha256": "<64 hex>"             SHA-256 of the secret's canonical form (protocol.NormalizeCode)
//	  }
//	}
//
// Members another version wrote are kept as they are. A record that breaks
// the rules below is refused like any damaged state file (*CorruptError:
// file, record, field, offset, how to recover); moving codes.json aside
// loses only the codes (every node they approved stays paired).

const codesFile = "codes.json"

func decodeCodes(path string, data []byte) (*codeTable, error) {
	members, err := walkObject(path, data)
	if err != nil {
		return nil, err
	}
	t := newCodeTable()
	for _, m := range members {
		e, err := decodeCodeEntry(path, data, m.key, m.raw, m.off)
		if err != nil {
			return nil, err
		}
		if other := t.byHash[e.digest]; other != nil {
			return nil, corruptAt(path, data, m.off, fmt.Sprintf("codes %q and %q have the same sha256: one secret cannot be two codes", other.rec.ID, e.rec.ID))
		}
		t.put(e)
	}
	return t, nil
}

// decodeCodeEntry decodes and checks one code (data is the whole file, for
// line numbers; nil for a journal record).
func decodeCodeEntry(path string, data []byte, key string, raw []byte, off int64) (*codeEntry, error) {
	e := &codeEntry{}
	extra, err := slowDecodeRecord(path, raw, off, &e.rec)
	if err != nil {
		if ce, ok := errors.AsType[*CorruptError](err); ok && data != nil {
			ce.locate(data)
		}
		return nil, err
	}
	e.extra = extra
	if err := checkCode(key, &e.rec); err != nil {
		ce := fieldCorrupt(path, raw, off, key, err)
		if c, ok := errors.AsType[*CorruptError](ce); ok && data != nil {
			c.locate(data)
		}
		return nil, ce
	}
	// An empty list reads as none: written back, omitempty leaves it out,
	// and the code must read the same after a rewrite.
	for _, l := range []*[]string{&e.rec.Scope.Platforms, &e.rec.Scope.CIDRs, &e.rec.UsedBy} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	d, _ := hex.DecodeString(e.rec.SHA256) // checked
	copy(e.digest[:], d)
	e.raw, e.bodyAt = verbatimMember(key, raw)
	return e, nil
}

// checkCode applies to a loaded code the rules CreateCode and the
// redemption keep.
func checkCode(key string, c *codeRecord) error {
	bad := func(field, format string, args ...any) error {
		return &protocol.FieldError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	if c.ID != key {
		return bad("id", "%q differs from the record's key", protocol.Printable(c.ID))
	}
	if c.ID == "" || len(c.ID) > 64 {
		return bad("id", "must be 1 to 64 bytes")
	}
	if err := protocol.CheckText(c.ID); err != nil {
		return &protocol.FieldError{Field: "id", Err: err}
	}
	if d, err := hex.DecodeString(c.SHA256); err != nil || len(d) != sha256.Size {
		return bad("sha256", "must be 64 hex digits")
	}
	if len(c.Prefix) > protocol.CodePrefixLen {
		return bad("prefix", "longer than %d characters", protocol.CodePrefixLen)
	}
	if err := protocol.CheckText(c.Prefix); err != nil {
		return &protocol.FieldError{Field: "prefix", Err: err}
	}
	if err := c.Scope.Check(); err != nil {
		return err
	}
	if err := protocol.CheckReason("note", c.Note); err != nil {
		return err
	}
	if err := protocol.CheckReason("revokeReason", c.RevokeReason); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"createdBy", c.CreatedBy}, {"revokedBy", c.RevokedBy}} {
		if err := protocol.CheckField(f.name, f.v); err != nil {
			return err
		}
	}
	switch {
	case c.CreatedAtMs <= 0:
		return bad("createdAtMs", "must be a time")
	case c.ExpiresAtMs <= c.CreatedAtMs || c.ExpiresAtMs-c.CreatedAtMs > protocol.CodeMaxTTLMs:
		return bad("expiresAtMs", "must be after createdAtMs, by at most %d days", protocol.CodeMaxTTLMs/(24*60*60*1000))
	case c.MaxUses < 1 || c.MaxUses > protocol.CodeMaxUses:
		return bad("maxUses", "%d is outside 1 to %d", c.MaxUses, protocol.CodeMaxUses)
	case c.Uses < 0 || c.Uses > c.MaxUses:
		return bad("uses", "%d is outside 0 to maxUses (%d)", c.Uses, c.MaxUses)
	case len(c.UsedBy) > c.Uses:
		return bad("usedBy", "names %d nodes for %d uses", len(c.UsedBy), c.Uses)
	case c.RevokedAtMs < 0 || c.LastUsedAtMs < 0:
		return bad("revokedAtMs", "must not be negative")
	}
	for i, id := range c.UsedBy {
		if err := protocol.CheckNodeID(id); err != nil {
			return &protocol.FieldError{Field: fmt.Sprintf("usedBy[%d]", i), Err: err}
		}
	}
	return nil
}
