package client

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/pairdeck/pairdeck/protocol"
)

// Lenient decoding of the records OpenClaw gateways send: the typed fields,
// plus every key the type does not model in Extra, so nothing the gateway
// said is lost on the way to --json output or a detail view.

// decodeWithExtra decodes raw into v (a pointer to a struct) and returns the
// keys of raw that v's type does not know.
func decodeWithExtra(raw json.RawMessage, v any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) != nil {
		return nil, nil
	}
	known := knownKeys(reflect.TypeOf(v).Elem())
	for k := range all {
		if known[k] {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return all, nil
}

var knownKeyCache sync.Map // reflect.Type -> map[string]bool

// knownKeys is the set of JSON keys a struct type decodes, embedded structs
// included.
func knownKeys(t reflect.Type) map[string]bool {
	if m, ok := knownKeyCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			m[name] = true
		}
	}
	walk(t)
	knownKeyCache.Store(t, m)
	return m
}

// decodePending decodes a node.pair.* pending record.
func decodePending(raw json.RawMessage) (protocol.PendingRequest, error) {
	var r protocol.PendingRequest
	extra, err := decodeWithExtra(raw, &r)
	r.Extra = extra
	return r, err
}

// decodePaired decodes a node.pair.* paired record, without its token.
func decodePaired(raw json.RawMessage) (protocol.PairedNode, error) {
	var n protocol.PairedNode
	extra, err := decodeWithExtra(raw, &n)
	n.Extra = extra
	return n.WithoutSecrets(), err
}

// decodeDevice decodes a device.pair.* pending record and the keys the
// queue's PendingRequest would not keep.
func decodeDevice(raw json.RawMessage) (protocol.PendingDevice, map[string]json.RawMessage, error) {
	var d protocol.PendingDevice
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, nil, err
	}
	var all map[string]json.RawMessage
	_ = json.Unmarshal(raw, &all)
	known := knownKeys(reflect.TypeFor[protocol.PendingRequest]())
	for k := range all {
		if known[k] || k == "deviceId" {
			delete(all, k)
		}
	}
	if len(all) == 0 {
		all = nil
	}
	return d, all, nil
}
