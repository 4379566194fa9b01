package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/pairdeck/pairdeck/protocol"
)

// Decoding records without reflection. Opening a large store is mostly
// decoding records, and encoding/json's reflection is most of that. The
// files pairdeck and OpenClaw write hold records of one plain shape, which
// fastDecode reads directly; on anything else (an escape it does not
// expect, a number with a fraction, a key in another case) it gives up and
// the caller uses encoding/json, which also words the error for a damaged
// file. Where fastDecode succeeds it gives what encoding/json gives
// (FuzzFastDecodeAgrees checks it).

// fastDecode fills v (*protocol.PendingRequest or *protocol.PairedNode)
// from one record's JSON and returns its unknown members; ok is false when
// the record is not of the plain shape.
func fastDecode(raw []byte, v any) (extra map[string]json.RawMessage, ok bool) {
	switch dst := v.(type) {
	case *protocol.PendingRequest:
		var r protocol.PendingRequest
		if extra, ok = fastDecodeInto(raw, &r); ok {
			*dst = r
		}
	case *protocol.PairedNode:
		var r protocol.PairedNode
		if extra, ok = fastDecodeInto(raw, &r); ok {
			*dst = r
		}
	}
	return extra, ok
}

// fastDecodeInto is fastDecode into a fresh value (v is left half-filled
// when it gives up).
func fastDecodeInto(raw []byte, v any) (extra map[string]json.RawMessage, ok bool) {
	members, err := scanObject(raw)
	if err != nil {
		return nil, false
	}
	var meta *protocol.NodeMeta
	var set func(key string, val []byte) (known, ok bool)
	switch r := v.(type) {
	case *protocol.PendingRequest:
		meta = &r.NodeMeta
		set = func(key string, val []byte) (bool, bool) {
			switch key {
			case "requestId":
				return true, plainString(val, &r.RequestID)
			case "nodeId":
				return true, plainString(val, &r.NodeID)
			case "silent":
				return true, plainBool(val, &r.Silent)
			case "isRepair":
				return true, plainBool(val, &r.IsRepair)
			case "ts":
				return true, plainInt(val, &r.TS)
			case "renamedAtMs":
				return true, plainInt(val, &r.RenamedAtMs)
			case "requiredApproveScopes":
				return true, plainStrings(val, &r.RequiredApproveScopes)
			case "expiresAtMs":
				return true, plainInt(val, &r.ExpiresAtMs)
			}
			return false, true
		}
	case *protocol.PairedNode:
		meta = &r.NodeMeta
		set = func(key string, val []byte) (bool, bool) {
			switch key {
			case "nodeId":
				return true, plainString(val, &r.NodeID)
			case "token":
				return true, plainString(val, &r.Token)
			case "tokenSha256":
				return true, plainString(val, &r.TokenSHA256)
			case "createdAtMs":
				return true, plainInt(val, &r.CreatedAtMs)
			case "approvedAtMs":
				return true, plainInt(val, &r.ApprovedAtMs)
			case "renamedAtMs":
				return true, plainInt(val, &r.RenamedAtMs)
			case "lastConnectedAtMs":
				return true, plainInt(val, &r.LastConnectedAtMs)
			}
			return false, true
		}
	default:
		return nil, false
	}
	known := knownKeys(v)
	for _, m := range members {
		isKnown, good := set(m.key, m.raw)
		if !isKnown {
			isKnown, good = setMeta(meta, m.key, m.raw)
		}
		switch {
		case !good:
			return nil, false
		case isKnown:
			continue
		case isKnownKey(known, m.key):
			return nil, false // a known field in another case: encoding/json's rules
		}
		var c bytes.Buffer
		if json.Compact(&c, m.raw) != nil {
			return nil, false
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[m.key] = c.Bytes()
	}
	return extra, true
}

func setMeta(m *protocol.NodeMeta, key string, val []byte) (known, ok bool) {
	switch key {
	case "displayName":
		return true, plainString(val, &m.DisplayName)
	case "platform":
		return true, plainString(val, &m.Platform)
	case "version":
		return true, plainString(val, &m.Version)
	case "coreVersion":
		return true, plainString(val, &m.CoreVersion)
	case "uiVersion":
		return true, plainString(val, &m.UIVersion)
	case "deviceFamily":
		return true, plainString(val, &m.DeviceFamily)
	case "modelIdentifier":
		return true, plainString(val, &m.ModelIdentifier)
	case "remoteIp":
		return true, plainString(val, &m.RemoteIP)
	case "caps":
		return true, plainStrings(val, &m.Caps)
	case "commands":
		return true, plainStrings(val, &m.Commands)
	}
	return false, true
}

// plainString reads a JSON string without escapes or control characters
// (or null, which leaves dst as it is, as encoding/json does).
func plainString(val []byte, dst *string) bool {
	if string(val) == "null" {
		return true
	}
	s, ok := plainStringValue(val)
	if ok {
		*dst = s
	}
	return ok
}

func plainStringValue(val []byte) (string, bool) {
	if len(val) < 2 || val[0] != '"' || val[len(val)-1] != '"' {
		return "", false
	}
	body := val[1 : len(val)-1]
	for _, c := range body {
		if c < 0x20 || c == '\\' || c == '"' {
			return "", false
		}
	}
	if !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

func plainBool(val []byte, dst *bool) bool {
	switch string(val) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	case "null":
	default:
		return false
	}
	return true
}

// plainInt reads an integer in JSON's own form (no fraction, exponent or
// leading zero).
func plainInt(val []byte, dst *int64) bool {
	if string(val) == "null" {
		return true
	}
	digits := val
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	n, err := strconv.ParseInt(string(val), 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	return true
}

// plainStrings reads a JSON list of plain strings (or null).
func plainStrings(val []byte, dst *[]string) bool {
	if string(val) == "null" {
		*dst = nil
		return true
	}
	if len(val) < 2 || val[0] != '[' || val[len(val)-1] != ']' {
		return false
	}
	out := []string{}
	i := skipSpace(val, 1)
	if val[i] == ']' {
		*dst = out
		return i == len(val)-1
	}
	for {
		if i >= len(val) || val[i] != '"' {
			return false
		}
		end := stringEnd(val, i)
		if end < 0 {
			return false
		}
		s, ok := plainStringValue(val[i:end])
		if !ok {
			return false
		}
		out = append(out, s)
		i = skipSpace(val, end)
		if i >= len(val) {
			return false
		}
		if val[i] == ']' {
			if i != len(val)-1 {
				return false
			}
			*dst = out
			return true
		}
		if val[i] != ',' {
			return false
		}
		i = skipSpace(val, i+1)
	}
}
