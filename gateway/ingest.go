package gateway

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
)

// Text from the network is checked where it enters, in one walk over every
// decoded params value (connect's and every method's), so no string field
// can be forgotten when a method or a field is added: every string must
// pass protocol.CheckText, every string list protocol.CheckList, and every
// field named displayName protocol.CleanName. A refusal names the field by
// its wire path ("client.platform", "commands[2]"). Raw JSON kept as is
// (connect's permissions) is walked too, keys included.

// nameField is the wire name of every field that holds a display name.
const nameField = "displayName"

// checkParams walks v (a pointer to decoded params) and returns the first
// field that holds text a terminal would act on, as a *protocol.FieldError.
func checkParams(v any) error {
	return checkValue("", reflect.ValueOf(v))
}

func checkValue(path string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(path, v.Elem())
	case reflect.String:
		return checkString(path, v.String())
	case reflect.Struct:
		return checkStruct(path, v)
	case reflect.Slice:
		if v.Type() == rawMessageType {
			return checkRaw(path, v.Bytes())
		}
		if v.Type().Elem().Kind() == reflect.String {
			list := make([]string, v.Len())
			for i := range list {
				list[i] = v.Index(i).String()
			}
			return protocol.CheckList(path, list)
		}
		for i := range v.Len() {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String {
				if err := checkKey(path, k.String()); err != nil {
					return err
				}
			}
			if err := checkValue(join(path, k.String()), iter.Value()); err != nil {
				return err
			}
		}
	}
	return nil
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func checkStruct(path string, v reflect.Value) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		fieldPath := path
		switch {
		case f.Anonymous && name == "":
			// An embedded struct's fields are the outer object's (NodeMeta).
		case name != "":
			fieldPath = join(path, name)
		default:
			fieldPath = join(path, f.Name)
		}
		if err := checkValue(fieldPath, v.Field(i)); err != nil {
			return err
		}
	}
	return nil
}

// checkString applies the name rules to display names and the text rules
// to everything else. An empty name is left to the method (it may be
// optional there).
func checkString(path, s string) error {
	if leaf(path) == nameField && s != "" {
		if _, err := protocol.CleanName(s); err != nil {
			return &protocol.FieldError{Field: path, Err: err}
		}
		return nil
	}
	if err := protocol.CheckText(s); err != nil {
		return &protocol.FieldError{Field: path, Err: err}
	}
	return nil
}

func checkKey(path, key string) error {
	if err := protocol.CheckText(key); err != nil {
		return &protocol.FieldError{Field: join(path, protocol.Printable(key)), Err: fmt.Errorf("property name: %w", err)}
	}
	return nil
}

// checkRaw walks JSON the gateway keeps without a type of its own.
func checkRaw(path string, raw []byte) error {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return &protocol.FieldError{Field: path, Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	return checkValue(path, reflect.ValueOf(&v))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func leaf(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// checkClient bounds the connect client block's fields as a node's
// declared metadata is bounded (protocol.MaxFieldLen): they are kept for
// the connection's life, logged, and fill a node's own request.
func checkClient(c protocol.ClientInfo) error {
	for _, f := range [...]struct{ name, v string }{
		{"client.id", c.ID}, {"client.version", c.Version}, {"client.platform", c.Platform},
		{"client.mode", c.Mode}, {"client.deviceFamily", c.DeviceFamily},
		{"client.modelIdentifier", c.ModelIdentifier}, {"client.instanceId", c.InstanceID},
		{"client.buildId", c.BuildID}, {"client.timeZone", c.TimeZone},
	} {
		if err := protocol.CheckField(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// maxFrameTag bounds a request's traceparent and expectedProfileId.
const maxFrameTag = 128

// answerID is the id to answer a request frame with: its own, unless that
// holds unsafe text (then "invalid"), since answers echo it.
func answerID(req *protocol.Request) string {
	if protocol.CheckText(req.ID) != nil {
		return "invalid"
	}
	return req.ID
}

// checkFrame refuses a request frame whose id, method or tags hold unsafe
// text: they are echoed in answers and logs.
func checkFrame(req *protocol.Request) *protocol.Error {
	if err := protocol.CheckText(req.ID); err != nil {
		return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "invalid frame: id: %v", err)
	}
	if err := protocol.CheckText(req.Method); err != nil {
		return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "invalid frame: method: %v", err)
	}
	// Accepted from OpenClaw 2026.9 clients and never used, but still
	// text from the network: bounded as OpenClaw bounds them.
	for _, f := range [...]struct{ name, v string }{{"traceparent", req.Traceparent}, {"expectedProfileId", req.ExpectedProfileID}} {
		if len(f.v) > maxFrameTag {
			return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "invalid frame: %s: longer than %d bytes", f.name, maxFrameTag)
		}
		if err := protocol.CheckText(f.v); err != nil {
			return protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonInvalidParams, "invalid frame: %s: %v", f.name, err)
		}
	}
	return nil
}
