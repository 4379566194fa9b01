package client

import (
	"encoding/json"
	"slices"

	"github.com/pairdeck/pairdeck/protocol"
)

// translate maps a gateway event onto the vocabulary the console and the
// CLI understand (protocol.Events), or drops it (nil). relist asks the
// consumer to list again because the event alone cannot say enough.
//
//   - node.pair.requested / .resolved pass, marked with their kind on
//     OpenClaw gateways; node requests of 2026.4/2026.7 get their 5-minute
//     expiry.
//   - node.pair.resolved with decision "removed" (requestId "") is a removal:
//     pairdeck.node.removed.
//   - On a gateway of ModelDevicePairing, device.pair.requested becomes
//     node.pair.requested of a device request, and device.pair.resolved of
//     a request this client knows becomes node.pair.resolved.
//   - pairdeck's own events pass as they are; everything else (OpenClaw's
//     presence and node.presence, health, ...) is dropped, so nothing of
//     another shape is read as pairdeck's.
func (c *Client) translate(h protocol.HelloOK, ev *protocol.Event) (out *protocol.Event, relist bool) {
	pairdeck := isPairdeck(h.Features)
	model := modelOf(h.Features)
	switch ev.Event {
	case protocol.EventPairRequested:
		if pairdeck {
			var r struct {
				RequestID string `json:"requestId"`
				NodeID    string `json:"nodeId"`
			}
			if json.Unmarshal(ev.Payload, &r) == nil {
				c.q.remember(r.RequestID, protocol.KindNode, r.NodeID)
			}
			return ev, false
		}
		r, err := decodePending(ev.Payload)
		if err != nil || r.RequestID == "" {
			return nil, true
		}
		r.Kind = protocol.KindNode
		if model == ModelNodePairing {
			r.ExpiresAtMs = nodeRequestExpiry(r)
		}
		c.q.remember(r.RequestID, protocol.KindNode, r.NodeID)
		return reencode(ev, protocol.EventPairRequested, r, r.Extra), false

	case protocol.EventPairResolved:
		var r protocol.ResolvedEvent
		if err := json.Unmarshal(ev.Payload, &r); err != nil {
			return nil, true
		}
		if r.Decision == protocol.DecisionRemoved {
			c.q.forget(r.RequestID, r.NodeID)
			return reencode(ev, protocol.EventPairRemoved, protocol.RemovedEvent{NodeID: r.NodeID, TS: r.TS}, nil), false
		}
		c.q.forget(r.RequestID, r.NodeID)
		if pairdeck {
			return ev, false
		}
		r.Kind = protocol.KindNode
		return reencode(ev, protocol.EventPairResolved, r, nil), false

	case protocol.EventDevicePairRequested:
		if model != ModelDevicePairing {
			return nil, false
		}
		d, extra, err := decodeDevice(ev.Payload)
		if err != nil || d.RequestID == "" {
			return nil, true
		}
		r := c.deviceRequest(d, extra)
		c.q.remember(r.RequestID, protocol.KindDevice, r.NodeID)
		// A repair's reason is worked out against the paired record; if
		// this client has not seen that record, a list will show it.
		_, known := c.q.pairedDevice(d.DeviceID)
		return reencode(ev, protocol.EventPairRequested, r, r.Extra), d.IsRepair && !known

	case protocol.EventDevicePairResolved:
		if model != ModelDevicePairing {
			return nil, false
		}
		var d protocol.DeviceResolvedEvent
		if json.Unmarshal(ev.Payload, &d) != nil {
			return nil, true
		}
		// Silent approvals of devices nobody was asked about resolve
		// requests that were never in the queue: nothing to show.
		if k, ok := c.q.kind(d.RequestID); !ok || k != protocol.KindDevice {
			return nil, false
		}
		c.q.forget(d.RequestID, "")
		return reencode(ev, protocol.EventPairResolved, protocol.ResolvedEvent{RequestID: d.RequestID, NodeID: d.DeviceID,
			Decision: d.Decision, TS: d.TS, Kind: protocol.KindDevice}, nil), false
	}
	if pairdeck || (slices.Contains(protocol.Events, ev.Event) && !isPairdeckOnlyEvent(ev.Event)) {
		return ev, false
	}
	return nil, false
}

// isPairdeckOnlyEvent reports names only pairdeck's gateway may use; from
// another gateway they would mean something else.
func isPairdeckOnlyEvent(name string) bool {
	return name != protocol.EventTick && name != protocol.EventShutdown &&
		name != protocol.EventPairRequested && name != protocol.EventPairResolved
}

// reencode builds the translated event, keeping the original's seq.
func reencode(orig *protocol.Event, name string, payload any, extra map[string]json.RawMessage) *protocol.Event {
	data, err := protocol.MarshalWithExtra(payload, extra)
	if err != nil {
		return nil
	}
	return &protocol.Event{Type: protocol.TypeEvent, Event: name, Payload: data, Seq: orig.Seq}
}
