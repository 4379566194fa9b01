package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/pairdeck/pairdeck/protocol"
)

// fileRecord is one member of a state file: its key and its text exactly as
// it appears in the file (indented one level), so that rewriting a file is a
// concatenation instead of a re-marshal of every record. The text is made
// when a record changes, or for records loaded from disk the first time
// their file is written, so that opening a large store stays cheap.
type fileRecord struct {
	key    string
	raw    []byte // `  "key": {\n    ...\n  }`; nil until needed
	bodyAt int    // where the record's value starts in raw
	pos    int    // index in the table's orderList
	gen    uint64 // bumped by every encode, so a checkpoint can tell a record it encoded is still current
	// openclaw: the record is written in OpenClaw's format
	// (openclawformat.go), because the store's token storage is
	// "openclaw".
	openclaw bool
}

// prevBody is the record's text before a change, whose member order an
// OpenClaw-format encode keeps (nil when it has none yet).
func (r *fileRecord) prevBody() []byte {
	if r.raw == nil {
		return nil
	}
	return r.body()
}

// body is the record's value as the file holds it (what the journal
// carries); the record must have been encoded.
func (r *fileRecord) body() []byte { return r.raw[r.bodyAt:] }

// member is an entry of either table, as its file sees it.
type member interface {
	file() *fileRecord
	encode() error
}

func (e *pendingEntry) file() *fileRecord { return &e.fileRecord }
func (e *pairedEntry) file() *fileRecord  { return &e.fileRecord }

// pendingEntry is a pending request as held in memory.
type pendingEntry struct {
	fileRecord
	rec     protocol.PendingRequest // disk form: no scopes, no expiresAtMs
	extra   map[string]json.RawMessage
	seq     uint64 // bumped on create and refresh; orders equal timestamps
	heapIdx int
	wire    []byte // the record as node.pair.list shows it; nil until listed (list.go)
}

// pairedEntry is a paired node as held in memory. Its token is stored in
// one form: rec.Token (plaintext, as OpenClaw keeps it) or rec.TokenSHA256;
// digest is its SHA-256 either way (Verify compares that).
type pairedEntry struct {
	fileRecord
	rec      protocol.PairedNode
	extra    map[string]json.RawMessage
	digest   [32]byte
	hasToken bool
	wire     []byte // the record as node.pair.list shows it; nil until listed (list.go)
}

func (e *pendingEntry) encode() error {
	var raw []byte
	var at int
	var err error
	if e.openclaw {
		// What OpenClaw does not write is not kept in memory either, so
		// memory and file say the same (the view works isRepair out).
		e.rec.RenamedAtMs, e.rec.IsRepair = 0, false
		raw, at, err = encodeOpenClaw(e.key, &e.rec, e.extra, e.prevBody(), pendingOrder, pendingDrop)
	} else {
		raw, at, err = encodeMember(e.key, &e.rec, e.extra)
	}
	if err != nil {
		return fmt.Errorf("encode pending request %s: %w", e.key, err)
	}
	e.raw, e.bodyAt = raw, at
	e.gen++
	e.wire = nil
	return nil
}

func (e *pairedEntry) encode() error { return e.encodeWith(e.prevBody()) }

// encodeFresh encodes a record built afresh (an approval): in OpenClaw's
// format its members come in OpenClaw's order, whatever the old text had.
func (e *pairedEntry) encodeFresh() error { return e.encodeWith(nil) }

func (e *pairedEntry) encodeWith(prev []byte) error {
	var raw []byte
	var at int
	var err error
	if e.openclaw {
		e.rec.RenamedAtMs = 0
		if e.rec.Token != "" {
			e.rec.TokenSHA256 = ""
		}
		raw, at, err = encodeOpenClaw(e.key, &e.rec, e.extra, prev, pairedOrder, pairedDrop)
	} else {
		raw, at, err = encodeMember(e.key, &e.rec, e.extra)
	}
	if err != nil {
		return fmt.Errorf("encode paired node %s: %w", e.key, err)
	}
	e.raw, e.bodyAt = raw, at
	e.gen++
	e.wire = nil
	return nil
}

// marshalCompact is json.Marshal without HTML escaping, so names such as
// "R&D <lab>" read on disk as they do in OpenClaw's files.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// encodeMember renders `  "key": {record}` at the file's indentation, with
// unknown fields (written by another gateway) appended in key order, and
// where the record's value starts in it.
func encodeMember(key string, v any, extra map[string]json.RawMessage) ([]byte, int, error) {
	keyJSON, err := marshalCompact(key)
	if err != nil {
		return nil, 0, err
	}
	body, err := marshalCompact(v)
	if err != nil {
		return nil, 0, err
	}
	if len(extra) > 0 {
		body = appendExtra(body, extra)
	}
	var out bytes.Buffer
	out.Grow(len(keyJSON) + len(body)*2)
	out.WriteString("  ")
	out.Write(keyJSON)
	out.WriteString(": ")
	at := out.Len()
	if err := json.Indent(&out, body, "  ", "  "); err != nil {
		return nil, 0, err
	}
	return out.Bytes(), at, nil
}

// appendExtra splices extra members into a compact JSON object.
func appendExtra(obj []byte, extra map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := append([]byte(nil), obj[:len(obj)-1]...) // drop '}'
	for _, k := range keys {
		if len(out) > 1 {
			out = append(out, ',')
		}
		kj, _ := marshalCompact(k) // a string always marshals
		out = append(out, kj...)
		out = append(out, ':')
		out = append(out, extra[k]...)
	}
	return append(out, '}')
}

// assembleFile builds a state file from its members: "{}" when empty,
// otherwise two-space indented with no trailing newline, like OpenClaw's.
func assembleFile(order []member) ([]byte, error) {
	size := 4
	for _, m := range order {
		if m == nil {
			continue
		}
		if m.file().raw == nil {
			if err := m.encode(); err != nil {
				return nil, err
			}
		}
		size += len(m.file().raw) + 2
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	first := true
	for _, m := range order {
		if m == nil {
			continue
		}
		r := m.file()
		if first {
			b = append(b, '\n')
			first = false
		} else {
			b = append(b, ",\n"...)
		}
		b = append(b, r.raw...)
	}
	if !first {
		b = append(b, '\n')
	}
	return append(b, '}'), nil
}

// knownKeys are the JSON member names of a record type; everything else in
// a record on disk is kept as an unknown field.
type keySet struct {
	exact map[string]bool
	names []string
}

var (
	knownKeysOnce    sync.Once
	pendingKnownKeys keySet
	pairedKnownKeys  keySet
	codeKnownKeys    keySet
)

func jsonKeys(t reflect.Type) keySet {
	ks := keySet{exact: map[string]bool{}}
	addJSONKeys(&ks, t)
	return ks
}

// addJSONKeys adds t's member names, descending into embedded structs
// (protocol.NodeMeta) as encoding/json does.
func addJSONKeys(ks *keySet, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addJSONKeys(ks, f.Type)
			continue
		}
		if name != "" && name != "-" {
			ks.exact[name] = true
			ks.names = append(ks.names, name)
		}
	}
}

func knownKeys(v any) keySet {
	knownKeysOnce.Do(func() {
		pendingKnownKeys = jsonKeys(reflect.TypeFor[protocol.PendingRequest]())
		pairedKnownKeys = jsonKeys(reflect.TypeFor[protocol.PairedNode]())
		codeKnownKeys = jsonKeys(reflect.TypeFor[codeRecord]())
	})
	switch v.(type) {
	case *protocol.PendingRequest:
		return pendingKnownKeys
	case *codeRecord:
		return codeKnownKeys
	}
	return pairedKnownKeys
}

// isKnownKey matches the way encoding/json fills struct fields
// (case-insensitively), so a member it consumed is not also kept as extra.
func isKnownKey(known keySet, k string) bool {
	if known.exact[k] {
		return true
	}
	for _, n := range known.names {
		if strings.EqualFold(n, k) {
			return true
		}
	}
	return false
}
