package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pairdeck/pairdeck/protocol"
)

// Loading never modifies a file: a problem is reported as a *CorruptError
// naming the file, the byte offset and how to recover, and the caller
// refuses to start.

// decodePending parses pending.json. seq numbers records in file order.
// openclaw: the records are kept in OpenClaw's format (token storage
// "openclaw"), each with its text as read.
func decodePending(path string, data []byte, seq *uint64, openclaw bool) (*pendingTable, error) {
	members, err := walkObject(path, data)
	if err != nil {
		return nil, err
	}
	entries, err := decodeAll(path, data, members, func(m jsonMember) (*pendingEntry, error) {
		return decodePendingEntry(path, data, m.key, m.raw, m.off, openclaw)
	})
	if err != nil {
		return nil, err
	}
	t := newPendingTable()
	for _, e := range entries {
		*seq++
		e.seq = *seq
		t.insert(e)
	}
	return t, nil
}

// decodePendingEntry decodes one record of pending.json (data is the
// whole file, for line numbers; nil for a journal record).
func decodePendingEntry(path string, data []byte, key string, raw []byte, off int64, openclaw bool) (*pendingEntry, error) {
	e := &pendingEntry{fileRecord: fileRecord{key: key, openclaw: openclaw}}
	extra, err := decodeRecord(path, raw, off, &e.rec)
	if err != nil {
		return nil, err
	}
	switch {
	case e.rec.RequestID != key:
		return nil, corruptAt(path, data, off, fmt.Sprintf("record %q has requestId %q; the key must equal its requestId", key, e.rec.RequestID))
	case strings.TrimSpace(e.rec.NodeID) == "":
		return nil, corruptAt(path, data, off, fmt.Sprintf("record %q has no nodeId", key))
	}
	if err := checkRequestID(key); err != nil {
		return nil, fieldCorrupt(path, raw, off, key, err)
	}
	if err := checkLoadedMeta(e.rec.NodeID, &e.rec.NodeMeta); err != nil {
		return nil, fieldCorrupt(path, raw, off, key, err)
	}
	// Computed for the wire only; never kept on disk.
	e.rec.RequiredApproveScopes = nil
	e.rec.ExpiresAtMs = 0
	e.extra = extra
	if openclaw {
		e.raw, e.bodyAt = verbatimMember(key, raw)
		e.rec.RenamedAtMs, e.rec.IsRepair = 0, false // not OpenClaw's: the next write drops them
	}
	return e, nil
}

// decodePaired parses paired.json (openclaw as for decodePending). Each
// token keeps the form it has in the file (tokenstorage.go).
func decodePaired(path string, data []byte, openclaw bool) (*pairedTable, error) {
	members, err := walkObject(path, data)
	if err != nil {
		return nil, err
	}
	entries, err := decodeAll(path, data, members, func(m jsonMember) (*pairedEntry, error) {
		return decodePairedEntry(path, data, m.key, m.raw, m.off, openclaw)
	})
	if err != nil {
		return nil, err
	}
	t := newPairedTable()
	for _, e := range entries {
		t.insert(e)
	}
	return t, nil
}

// decodePairedEntry decodes one record of paired.json (data as for
// decodePendingEntry).
func decodePairedEntry(path string, data []byte, key string, raw []byte, off int64, openclaw bool) (*pairedEntry, error) {
	e := &pairedEntry{fileRecord: fileRecord{key: key, openclaw: openclaw}}
	extra, err := decodeRecord(path, raw, off, &e.rec)
	if err != nil {
		return nil, err
	}
	if e.rec.NodeID != key {
		return nil, corruptAt(path, data, off, fmt.Sprintf("record %q has nodeId %q; the key must equal its nodeId", key, e.rec.NodeID))
	}
	if err := checkLoadedMeta(e.rec.NodeID, &e.rec.NodeMeta); err != nil {
		return nil, fieldCorrupt(path, raw, off, key, err)
	}
	switch {
	case e.rec.Token != "":
		// A plaintext token (OpenClaw's form) stays plaintext until
		// ConvertTokens; next to a tokenSha256 it is the newer of the two
		// (OpenClaw's approval writes a token and nothing else, its
		// rename keeps what was there), and the hash goes with the
		// record's next change.
		e.digest = sha256.Sum256([]byte(e.rec.Token))
		e.hasToken = true
	case e.rec.TokenSHA256 != "":
		d, err := hex.DecodeString(e.rec.TokenSHA256)
		if err != nil || len(d) != sha256.Size {
			return nil, corruptAt(path, data, off, fmt.Sprintf("record %q: tokenSha256 must be 64 hex digits", key))
		}
		copy(e.digest[:], d)
		e.rec.TokenSHA256 = hex.EncodeToString(d) // normalise case
		e.hasToken = true
	}
	e.extra = extra
	if openclaw {
		e.raw, e.bodyAt = verbatimMember(key, raw)
		e.rec.RenamedAtMs = 0 // not OpenClaw's: the next write drops it
	}
	return e, nil
}

// decodeAll decodes members on every core (decoding is most of what
// opening a large store costs) and returns them in order, or the error of
// the first member that fails.
func decodeAll[T any](path string, data []byte, members []jsonMember, decode func(jsonMember) (T, error)) ([]T, error) {
	out := make([]T, len(members))
	errs := make([]error, len(members))
	workers := min(runtime.GOMAXPROCS(0), (len(members)+255)/256)
	if workers <= 1 {
		for i, m := range members {
			if out[i], errs[i] = decode(m); errs[i] != nil {
				break
			}
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for {
					start := int(next.Add(64)) - 64
					if start >= len(members) {
						return
					}
					for i := start; i < min(start+64, len(members)); i++ {
						out[i], errs[i] = decode(members[i])
					}
				}
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			if ce, ok := errors.AsType[*CorruptError](err); ok && ce.Line == 0 && data != nil {
				ce.locate(data)
			}
			return nil, err
		}
	}
	return out, nil
}

// checkLoadedMeta applies the wire's checks (protocol.CheckNodeID and
// NodeMeta.Clean) to a record loaded from a file: what could not have been
// sent is not accepted from disk either. meta is replaced by its cleaned
// form (a trimmed name, lists not shared with the decoder).
func checkLoadedMeta(nodeID string, meta *protocol.NodeMeta) error {
	if err := protocol.CheckNodeID(nodeID); err != nil {
		return err
	}
	clean, err := meta.Clean()
	if err != nil {
		return err
	}
	*meta = clean
	return nil
}

// checkRequestID applies a node id's limits to a request id (OpenClaw's
// are UUIDs; pairdeck's too).
func checkRequestID(id string) error {
	if len(id) > protocol.MaxNodeIDLen {
		return &protocol.FieldError{Field: "requestId", Err: fmt.Errorf("longer than %d bytes", protocol.MaxNodeIDLen)}
	}
	if err := protocol.CheckText(id); err != nil {
		return &protocol.FieldError{Field: "requestId", Err: err}
	}
	return nil
}

// fieldCorrupt refuses a record whose field breaks the wire's rules,
// naming the record, the field and where it is.
func fieldCorrupt(path string, raw []byte, off int64, key string, err error) error {
	at := off
	if fe, ok := errors.AsType[*protocol.FieldError](err); ok {
		name, _, _ := strings.Cut(fe.Field, "[")
		if i := bytes.Index(raw, []byte(`"`+name+`"`)); i >= 0 {
			at = off + int64(i)
		}
	}
	return corruptAt(path, nil, at, fmt.Sprintf("record %q: %v (the gateway would refuse this from a node, so it does not load it from a file either)", key, err))
}

// walkObject checks that data is one JSON object with no key twice and
// returns its members with their byte offsets in data.
func walkObject(path string, data []byte) ([]jsonMember, error) {
	members, err := scanObject(data)
	if err != nil {
		if members, err = decodeObject(path, data); err != nil {
			return nil, err
		}
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if seen[m.key] {
			return nil, corruptAt(path, data, m.off, fmt.Sprintf("key %q appears twice", m.key))
		}
		seen[m.key] = true
	}
	return members, nil
}

// decodeObject is walkObject's careful path: encoding/json's streaming
// decoder, for the exact error and offset when a file is damaged.
func decodeObject(path string, data []byte) ([]jsonMember, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		// An empty file is what a crash of a careless writer leaves; it is
		// not an empty table, so it is refused like any other damage.
		return nil, corruptAt(path, data, 0, "the file is empty (an empty table is written as {})")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, syntaxCorrupt(path, data, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		start := int64(len(data) - len(bytes.TrimLeft(data, " \t\r\n")))
		return nil, corruptAt(path, data, start, fmt.Sprintf("expected a JSON object ({...}), found %s", describeToken(tok)))
	}
	var members []jsonMember
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntaxCorrupt(path, data, err)
		}
		key, _ := tok.(string) // inside an object the decoder yields keys
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntaxCorrupt(path, data, err)
		}
		members = append(members, jsonMember{key: key, raw: raw, off: dec.InputOffset() - int64(len(raw))})
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, syntaxCorrupt(path, data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		at := dec.InputOffset()
		if err != nil {
			return nil, syntaxCorrupt(path, data, err)
		}
		return nil, corruptAt(path, data, at, "unexpected data after the closing }")
	}
	return members, nil
}

// decodeRecord fills v from one member's value and returns the members v has
// no field for, so they survive a rewrite.
func decodeRecord(path string, raw []byte, off int64, v any) (map[string]json.RawMessage, error) {
	if extra, ok := fastDecode(raw, v); ok {
		return extra, nil
	}
	return slowDecodeRecord(path, raw, off, v)
}

// slowDecodeRecord is decodeRecord with encoding/json: for records of any
// shape, and for the precise error when one is damaged.
func slowDecodeRecord(path string, raw []byte, off int64, v any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(raw, v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return nil, typeCorrupt(path, raw, off, te)
		}
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			return nil, corruptAt(path, nil, off+se.Offset, se.Error())
		}
		return nil, corruptAt(path, nil, off, err.Error())
	}
	members, err := scanObject(raw)
	if err != nil {
		if len(raw) > 0 && raw[0] == '{' {
			// Valid JSON the scanner does not follow; let the decoder split it.
			var all map[string]json.RawMessage
			if err := json.Unmarshal(raw, &all); err != nil {
				return nil, corruptAt(path, nil, off, err.Error())
			}
			for k, val := range all {
				members = append(members, jsonMember{key: k, raw: val})
			}
		} else {
			return nil, nil // null: no fields at all
		}
	}
	known := knownKeys(v)
	var extra map[string]json.RawMessage
	for _, m := range members {
		if isKnownKey(known, m.key) {
			continue
		}
		var c bytes.Buffer
		if err := json.Compact(&c, m.raw); err != nil {
			return nil, corruptAt(path, nil, off+m.off, err.Error())
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[m.key] = c.Bytes()
	}
	return extra, nil
}

func typeCorrupt(path string, raw []byte, off int64, te *json.UnmarshalTypeError) error {
	field := te.Field
	if field == "" {
		return corruptAt(path, nil, off, fmt.Sprintf("a record must be a JSON object, found %s", te.Value))
	}
	return corruptAt(path, nil, off+te.Offset, fmt.Sprintf("field %q must be %s, found %s", field, jsonKind(te.Type.Kind().String()), te.Value))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "a list"
	case "int", "int64":
		return "a whole number"
	default:
		return goKind
	}
}

func syntaxCorrupt(path string, data []byte, err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return corruptAt(path, data, se.Offset, se.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return corruptAt(path, data, int64(len(data)), "the file ends in the middle of a value (truncated?)")
	}
	return corruptAt(path, data, 0, err.Error())
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "a list"
		}
		return string(t)
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "true/false"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", tok)
	}
}
