package store

import (
	"bytes"
	"encoding/json"
	"slices"
)

// Records in OpenClaw's format (token storage "openclaw"). OpenClaw
// 2026.4.12 and 2026.7.35 build a record as a JavaScript object literal
// and write it with JSON.stringify(state, null, 2), so its members come in
// the order the literal names them, an absent value is no member at all,
// and a change made with {...existing, field} keeps the existing members
// where they are and adds new ones at the end. pairdeck writes records the
// same way, so a file it writes is, byte for byte, the one the release
// would have written for the same changes:
//
//   - a record loaded from a file and never changed keeps its text;
//   - a changed record keeps its members' order and adds new members in
//     OpenClaw's order (pendingOrder, pairedOrder);
//   - an approval builds the paired record afresh, in OpenClaw's order, as
//     OpenClaw does;
//   - the members OpenClaw does not write (pendingDrop, pairedDrop) are
//     left out; members of other writers are kept where they were.

// pendingOrder is 2026.7.35's buildPendingNodePairingRequest (2026.4.12's
// is the same without revision, clientId and clientMode).
var pendingOrder = []string{
	"requestId", "revision", "nodeId", "clientId", "clientMode", "displayName", "platform", "version",
	"coreVersion", "uiVersion", "deviceFamily", "modelIdentifier", "caps", "commands", "permissions",
	"remoteIp", "silent", "ts",
}

// pairedOrder is 2026.7.35's approveNodePairing record (2026.4.12's
// without clientId and clientMode), then what updatePairedNodeMetadata
// adds. tokenSha256 takes the token's place in a record that has one.
var pairedOrder = []string{
	"nodeId", "token", "tokenSha256", "clientId", "clientMode", "displayName", "platform", "version",
	"coreVersion", "uiVersion", "deviceFamily", "modelIdentifier", "caps", "commands", "permissions",
	"remoteIp", "createdAtMs", "approvedAtMs", "bins", "lastConnectedAtMs",
}

// Members pairdeck keeps that OpenClaw neither writes nor expects.
var (
	pendingDrop = map[string]bool{"renamedAtMs": true, "isRepair": true}
	pairedDrop  = map[string]bool{"renamedAtMs": true}
)

// encodeOpenClaw renders `  "key": {record}` as OpenClaw would write it:
// v's members (less drop) and extra, in prev's order (the record's text
// before this change; nil for a record built afresh), then in order, then
// the rest in v's own order and extra's keys sorted. It returns where the
// value starts.
func encodeOpenClaw(key string, v any, extra map[string]json.RawMessage, prev []byte, order []string, drop map[string]bool) ([]byte, int, error) {
	body, err := marshalCompact(v)
	if err != nil {
		return nil, 0, err
	}
	members, err := scanObject(body)
	if err != nil {
		return nil, 0, err
	}
	vals := make(map[string][]byte, len(members)+len(extra))
	var own []string
	for _, m := range members {
		if !drop[m.key] {
			vals[m.key] = m.raw
			own = append(own, m.key)
		}
	}
	if _, ok := vals["token"]; ok {
		delete(vals, "tokenSha256") // the token is newer than a hash beside it
	}
	extraKeys := make([]string, 0, len(extra))
	for k, raw := range extra {
		if _, known := vals[k]; !known && !drop[k] {
			vals[k] = raw
			extraKeys = append(extraKeys, k)
		}
	}
	slices.Sort(extraKeys)

	keys := make([]string, 0, len(vals))
	done := make(map[string]bool, len(vals))
	add := func(k string) {
		if _, ok := vals[k]; ok && !done[k] {
			done[k] = true
			keys = append(keys, k)
		}
	}
	if prev != nil {
		if pm, err := scanObject(prev); err == nil {
			for _, m := range pm {
				add(m.key)
			}
		}
	}
	for _, k := range order {
		add(k)
	}
	for _, k := range own {
		add(k)
	}
	for _, k := range extraKeys {
		add(k)
	}

	var obj bytes.Buffer
	obj.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			obj.WriteByte(',')
		}
		kj, _ := marshalCompact(k) // a string always marshals
		obj.Write(kj)
		obj.WriteByte(':')
		obj.Write(vals[k])
	}
	obj.WriteByte('}')
	return indentMember(key, obj.Bytes())
}

// indentMember renders `  "key": value` at a state file's indentation.
func indentMember(key string, compact []byte) ([]byte, int, error) {
	keyJSON, err := marshalCompact(key)
	if err != nil {
		return nil, 0, err
	}
	var out bytes.Buffer
	out.Grow(len(keyJSON) + len(compact)*2)
	out.WriteString("  ")
	out.Write(keyJSON)
	out.WriteString(": ")
	at := out.Len()
	if err := json.Indent(&out, compact, "  ", "  "); err != nil {
		return nil, 0, err
	}
	return out.Bytes(), at, nil
}

// verbatimMember is a record's text as the file had it: the value exactly
// as read, so a record nobody changes is written back byte for byte.
func verbatimMember(key string, val []byte) ([]byte, int) {
	keyJSON, _ := marshalCompact(key) // a string always marshals
	b := make([]byte, 0, len(keyJSON)+4+len(val))
	b = append(b, "  "...)
	b = append(b, keyJSON...)
	b = append(b, ": "...)
	at := len(b)
	return append(b, val...), at
}

// inOpenClawForm reports whether a record's text has only what OpenClaw
// writes (ConvertTokens leaves such a record alone).
func inOpenClawForm(r *fileRecord, drop map[string]bool) bool {
	if r.raw == nil {
		return false
	}
	members, err := scanObject(r.body())
	if err != nil {
		return false
	}
	hasToken := false
	for _, m := range members {
		hasToken = hasToken || m.key == "token"
	}
	for _, m := range members {
		if drop[m.key] || (hasToken && m.key == "tokenSha256") {
			return false
		}
	}
	return true
}
