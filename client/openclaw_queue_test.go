package client

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

// byName finds the pending request of displayName (and kind, if given).
func byName(t *testing.T, list []protocol.PendingRequest, name, kind string) protocol.PendingRequest {
	t.Helper()
	for _, r := range list {
		if r.DisplayName == name && (kind == "" || r.Kind == kind) {
			return r
		}
	}
	t.Fatalf("no pending %s request %q in %d", kind, name, len(list))
	return protocol.PendingRequest{}
}

func findNode(t *testing.T, nodes []protocol.NodeInfo, name string) protocol.NodeInfo {
	t.Helper()
	for _, n := range nodes {
		if n.DisplayName == name {
			return n
		}
	}
	t.Fatalf("no node %q", name)
	return protocol.NodeInfo{}
}

// Node capability requests on 2026.9.6: kind, no invented expiry, every
// field kept, approval without a token, the approval state in node.list.
func TestOpenClawNodeCapabilityQueue(t *testing.T) {
	ctx := testCtx(t)
	c, g := dialReplay(t, "2026.9.6", "node-connect", "op")
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Answered(); !slices.Contains(got, protocol.MethodDevicePairList) || !slices.Contains(got, protocol.MethodPairList) {
		t.Errorf("List called %v, want both queues", got)
	}
	p := byName(t, list.Pending, "Recorder P", protocol.KindNode)
	r := byName(t, list.Pending, "Recorder R", protocol.KindNode)
	s := byName(t, list.Pending, "Recorder S", protocol.KindNode)
	if p.ExpiresAtMs != 0 {
		t.Errorf("P expires at %d: 9.6 gives capability requests no expiry, none may be made up", p.ExpiresAtMs)
	}
	if _, ok := p.ExpiresAt(); ok {
		t.Errorf("ExpiresAt reports an expiry")
	}
	if p.ClientID != "node-host" || p.ClientMode != "node" || !p.Silent || !slices.Equal(p.RequiredApproveScopes, []string{protocol.ScopePairing, protocol.ScopeWrite}) {
		t.Errorf("P = %+v", p)
	}
	if !p.Permissions["camera"] {
		t.Errorf("P's permissions %v, want camera kept", p.Permissions)
	}
	if !slices.Contains(r.RequiredApproveScopes, protocol.ScopeAdmin) {
		t.Errorf("R (system.run) needs %v, want operator.admin", r.RequiredApproveScopes)
	}

	// A node with only a pending request cannot be renamed here: explained.
	_, err = c.Rename(ctx, s.NodeID, "Renamed S")
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Capability != CapRenamePending || !strings.Contains(err.Error(), "renames paired nodes only") {
		t.Errorf("rename of a pending node: %v, want the one-line explanation", err)
	}

	nodes, err := c.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pn := findNode(t, nodes.Nodes, "Recorder P")
	if pn.ApprovalState != protocol.ApprovalPending || pn.PendingRequestID != p.RequestID || !pn.Paired ||
		!slices.Equal(pn.PendingDeclaredCommands, []string{"system.notify"}) {
		t.Errorf("node P = %+v, want pending-approval of request %s", pn, p.RequestID)
	}
	if _, ok := pn.Extra["sessionHost"]; !ok {
		t.Errorf("node P extra %v, want the keys pairdeck does not model kept", keys(pn.Extra))
	}

	ap, err := c.Approve(ctx, p.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Kind != protocol.KindNode || ap.Node.Token != "" || ap.NoToken != protocol.NoTokenNodeUsesDeviceToken || ap.Node.NodeID != p.NodeID {
		t.Errorf("approve = %+v, want no token and the reason why", ap)
	}
	if !ap.Node.Permissions["camera"] || ap.Node.ClientID != "node-host" || ap.Node.LastSeenReason == "" {
		t.Errorf("approved node = %+v, want its permissions and the gateway's other fields carried through", ap.Node)
	}
	q := byName(t, list.Pending, "Recorder Q", protocol.KindNode)
	rj, err := c.Reject(ctx, q.RequestID)
	if err != nil || rj.Kind != protocol.KindNode || rj.NodeID != q.NodeID {
		t.Errorf("reject = %+v, %v", rj, err)
	}
	if _, err := c.Approve(ctx, r.RequestID); err != nil {
		t.Fatal(err)
	}
	if g.Answered()[len(g.Answered())-1] != protocol.MethodPairApprove {
		t.Errorf("node requests go to node.pair.*: %v", g.Answered())
	}
	list, err = c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range list.Pending {
		if r.RequestID == p.RequestID {
			t.Errorf("approved request still pending")
		}
	}
	nodes, err = c.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pn := findNode(t, nodes.Nodes, "Recorder P"); pn.ApprovalState != protocol.ApprovalApproved {
		t.Errorf("node P approval %q after approve", pn.ApprovalState)
	}
	if qn := findNode(t, nodes.Nodes, "Recorder Q"); qn.ApprovalState == protocol.ApprovalApproved {
		t.Errorf("node Q approval %q after reject", qn.ApprovalState)
	}
	if _, err := c.Rename(ctx, p.NodeID, "Renamed P"); err != nil {
		t.Errorf("rename of an approved node: %v", err)
	}
	if err := c.Supports(CapDeviceRename); err != nil {
		t.Errorf("9.6 offers device.pair.rename: %v", err)
	}
	if err := c.RenameDevice(ctx, p.NodeID, "Renamed P device"); err != nil {
		t.Errorf("device rename: %v", err)
	}
	if _, err := c.Remove(ctx, r.NodeID); err != nil {
		t.Errorf("remove: %v", err)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Device pairing requests on 2026.9.6: one queue with the node requests,
// reasons, refresh and supersede, approve/reject by id to device.pair.*.
func TestOpenClawDevicePairingQueue(t *testing.T) {
	ctx := testCtx(t)
	c, g := dialReplay(t, "2026.9.6", "device-pairing", "op")
	first, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e1 := byName(t, first.Pending, "pairdeck recorder", protocol.KindDevice)
	if e1.Reason != protocol.PairingReasonNotPaired || e1.ClientID != "cli" || !slices.Equal(e1.Scopes, []string{protocol.ScopeRead}) {
		t.Errorf("E = %+v, want a new operator device asking for operator.read", e1)
	}
	if !slices.Equal(e1.RequiredApproveScopes, []string{protocol.ScopePairing, protocol.ScopeRead}) {
		t.Errorf("E needs %v to approve", e1.RequiredApproveScopes)
	}
	// 9.6 does not publish refreshedAtMs, so the client cannot know when a
	// retried device request expires: it makes up no deadline.
	if e1.ExpiresAtMs != 0 {
		t.Errorf("E expires at %d, want none (the gateway's refresh time is not published)", e1.ExpiresAtMs)
	}
	if _, ok := e1.Extra["publicKey"]; !ok {
		t.Errorf("E extra %v, want publicKey kept", keys(e1.Extra))
	}
	hasNode := false
	for _, r := range first.Pending {
		hasNode = hasNode || r.Kind == protocol.KindNode
	}
	if !hasNode {
		t.Errorf("the queue lost the node requests: %+v", first.Pending)
	}

	refreshed, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e := byName(t, refreshed.Pending, "pairdeck recorder", protocol.KindDevice); e.RequestID != e1.RequestID {
		t.Errorf("a refresh keeps the request id: %s, was %s", e.RequestID, e1.RequestID)
	}

	all, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var e2, f, gNode protocol.PendingRequest
	for _, r := range all.Pending {
		switch {
		case r.Kind != protocol.KindDevice:
		case r.DisplayName == "Recorder G":
			gNode = r
		case r.Platform == "darwin":
			f = r
		case r.DisplayName == "pairdeck recorder":
			e2 = r
		}
	}
	if e2.RequestID == "" || e2.RequestID == e1.RequestID || !slices.Equal(e2.Scopes, []string{protocol.ScopeRead, protocol.ScopePairing}) {
		t.Errorf("superseding request = %+v, want a new id with the merged scopes", e2)
	}
	if f.Reason != protocol.PairingReasonRoleUpgrade || !f.IsRepair {
		t.Errorf("F (asks for role node, all scopes, darwin) = %+v, want role-upgrade", f)
	}
	if gNode.Reason != protocol.PairingReasonNotPaired || !slices.Contains(gNode.RequiredApproveScopes, protocol.ScopeAdmin) {
		t.Errorf("G (a node device) = %+v, want operator.admin to approve", gNode)
	}
	for i := 1; i < len(all.Pending); i++ {
		a, b := all.Pending[i-1], all.Pending[i]
		if max(a.TS, a.RefreshedAtMs) < max(b.TS, b.RefreshedAtMs) {
			t.Errorf("not newest first at %d", i)
		}
	}

	ap, err := c.Approve(ctx, e2.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Kind != protocol.KindDevice || ap.Device == nil || ap.NoToken != protocol.NoTokenDeviceApproval || ap.Node.NodeID != e2.NodeID {
		t.Errorf("approve = %+v", ap)
	}
	rj, err := c.Reject(ctx, f.RequestID)
	if err != nil || rj.Kind != protocol.KindDevice || rj.NodeID != f.NodeID {
		t.Errorf("reject = %+v, %v", rj, err)
	}
	if _, err := c.Approve(ctx, gNode.RequestID); err != nil {
		t.Errorf("approve G: %v", err)
	}
	if got := g.Answered(); !slices.Contains(got, protocol.MethodDevicePairApprove) || !slices.Contains(got, protocol.MethodDevicePairReject) ||
		slices.Contains(got, protocol.MethodPairApprove) {
		t.Errorf("device requests must go to device.pair.*: %v", got)
	}
}

// An id the client has not seen is looked up with one list, then sent to
// its family.
func TestOpenClawApproveUnknownIDListsOnce(t *testing.T) {
	r := loadRecording(t, "2026.9.6", "node-connect")
	var list struct {
		Pending []protocol.PendingRequest `json:"pending"`
	}
	recordedResult(t, r, "op", protocol.MethodPairList, 0, &list)
	p := byName(t, list.Pending, "Recorder P", "")

	c, g := dialReplay(t, "2026.9.6", "node-connect", "op")
	ap, err := c.Approve(testCtx(t), p.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Node.NodeID != p.NodeID {
		t.Errorf("approved %+v", ap)
	}
	want := []string{protocol.MethodPairList, protocol.MethodDevicePairList, protocol.MethodPairApprove}
	got := g.Answered()
	slices.Sort(got[:2])
	slices.Sort(want[:2])
	if !slices.Equal(got, want) {
		t.Errorf("calls %v, want one list and the approve", got)
	}
}

// 2026.7.35 pairs nodes through node.pair.request: the queue is as before,
// with the 5-minute expiry the gateway applies, tokens stripped from the
// list, and permissions kept.
func TestOpenClawNodePairingQueue(t *testing.T) {
	ctx := testCtx(t)
	c, _ := dialReplay(t, "2026.7.35", "node-pairing-legacy", "op")
	list, err := c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := byName(t, list.Pending, "Alpha 2", protocol.KindNode)
	b := byName(t, list.Pending, "Bravo", protocol.KindNode)
	ch := byName(t, list.Pending, "Charlie", protocol.KindNode)
	for _, r := range []protocol.PendingRequest{a, b, ch} {
		if r.ExpiresAtMs != r.TS+5*60*1000 {
			t.Errorf("%s expires at %d, want ts + 5 min (%d)", r.DisplayName, r.ExpiresAtMs, r.TS+300000)
		}
	}
	if !b.Permissions["camera"] || b.Permissions["screen"] || len(b.Permissions) != 2 {
		t.Errorf("Bravo's permissions = %v, want camera:true screen:false", b.Permissions)
	}
	data, _ := protocol.MarshalWithExtra(b, b.Extra)
	if !strings.Contains(string(data), `"permissions":{"camera":true,"screen":false}`) {
		t.Errorf("--json form %s lost the permissions", data)
	}
	ap, err := c.Approve(ctx, a.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Node.Token == "" || ap.NoToken != "" {
		t.Errorf("approve on 7.35 = %+v, want the node token", ap)
	}
	if _, err := c.Approve(ctx, ch.RequestID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Reject(ctx, b.RequestID); err != nil {
		t.Fatal(err)
	}
	_, err = c.Reject(ctx, b.RequestID)
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Message != "unknown requestId" {
		t.Errorf("stale reject: %v, want the gateway's own words", err)
	}
	list, err = c.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Pending) != 0 || len(list.Paired) != 2 {
		t.Fatalf("after decisions: %d pending, %d paired", len(list.Pending), len(list.Paired))
	}
	for _, n := range list.Paired {
		if n.Token != "" {
			t.Errorf("paired %s carries its token", n.NodeID)
		}
	}
}

func TestOpenClawCapabilities(t *testing.T) {
	offered := map[string][]Capability{
		"2026.4.12": {CapVerify},
		"2026.7.35": {CapVerify, CapRemove},
		"2026.9.6":  {CapRemove, CapDeviceRename},
	}
	all := []Capability{CapRenamePending, CapVerify, CapBlockList, CapPairingSwitch, CapAutoApprove, CapRemove, CapDeviceRename, CapHistory}
	for _, v := range openclawVersions {
		t.Run(v, func(t *testing.T) {
			c, g := dialReplay(t, v, "handshake", "op-device-3to4")
			for _, cp := range all {
				err := c.Supports(cp)
				if want := slices.Contains(offered[v], cp); want != (err == nil) {
					t.Errorf("Supports(%s) = %v, want offered=%v", cp, err, want)
				}
				if err != nil && (strings.Contains(err.Error(), "unknown method") || strings.Count(err.Error(), "\n") > 0 || !errors.Is(err, ErrUnsupported)) {
					t.Errorf("Supports(%s) explanation %q", cp, err)
				}
			}
			// Calling an action the gateway does not offer never reaches it.
			_, err := c.Blocked(testCtx(t))
			var ue *UnsupportedError
			if !errors.As(err, &ue) || ue.Capability != CapBlockList {
				t.Errorf("Blocked: %v, want an UnsupportedError", err)
			}
			if slices.Contains(g.Answered(), protocol.MethodBlockList) {
				t.Errorf("the unoffered method was sent")
			}
			_, err = c.History(testCtx(t), protocol.HistoryQuery{})
			if !errors.As(err, &ue) || ue.Capability != CapHistory || strings.Contains(err.Error(), "unknown method") ||
				!strings.Contains(err.Error(), "pairdeck gateway feature") || slices.Contains(g.Answered(), protocol.MethodHistoryList) {
				t.Errorf("History: %v, want a one-line UnsupportedError, the call not sent", err)
			}
		})
	}
}

// collect reads updates until stop is seen (or 5 s pass).
func collect(t *testing.T, c *Client, stop func(protocol.Update) bool) []protocol.Update {
	t.Helper()
	var out []protocol.Update
	deadline := time.After(5 * time.Second)
	for {
		select {
		case u, ok := <-c.Updates():
			if !ok {
				return out
			}
			out = append(out, u)
			if stop(u) {
				return out
			}
		case <-deadline:
			t.Fatalf("updates ended without the expected event; got %d", len(out))
		}
	}
}

func eventsOf(ups []protocol.Update) []*protocol.Event {
	var out []*protocol.Event
	for _, u := range ups {
		if u.Event != nil {
			out = append(out, u.Event)
		}
	}
	return out
}

// Both event families keep the queue live, in pairdeck's vocabulary.
func TestOpenClawEventsOnTheQueue(t *testing.T) {
	c, _ := dialReplay(t, "2026.9.6", "node-connect", "watcher")
	ups := collect(t, c, func(u protocol.Update) bool { return u.Event != nil && u.Event.Event == protocol.EventPairRemoved })
	requested := map[string]protocol.PendingRequest{}
	decided := map[string]string{}
	for _, ev := range eventsOf(ups) {
		switch ev.Event {
		case protocol.EventPairRequested:
			var r protocol.PendingRequest
			if err := json.Unmarshal(ev.Payload, &r); err != nil {
				t.Fatal(err)
			}
			if r.Kind != protocol.KindNode || r.ExpiresAtMs != 0 || r.ClientID != "node-host" {
				t.Errorf("requested = %+v", r)
			}
			if _, seen := requested[r.DisplayName]; !seen { // Q asks again after its rejection
				requested[r.DisplayName] = r
			}
		case protocol.EventPairResolved:
			var r protocol.ResolvedEvent
			_ = json.Unmarshal(ev.Payload, &r)
			if r.Kind != protocol.KindNode {
				t.Errorf("resolved %+v without its kind", r)
			}
			decided[r.RequestID] = r.Decision
		case protocol.EventPairRemoved, protocol.EventTick:
		default:
			t.Errorf("event %q reached the consumer", ev.Event)
		}
	}
	if len(requested) < 4 || !requested["Recorder P"].Permissions["camera"] {
		t.Errorf("requested = %v", requested)
	}
	if decided[requested["Recorder P"].RequestID] != protocol.DecisionApproved || decided[requested["Recorder Q"].RequestID] != protocol.DecisionRejected {
		t.Errorf("decisions %v", decided)
	}
	for _, u := range ups {
		if u.Relist {
			t.Errorf("a relist was asked for: events without seq or with per-connection seq are not gaps")
		}
	}
}

func TestOpenClawDeviceEventsOnTheQueue(t *testing.T) {
	c, _ := dialReplay(t, "2026.9.6", "device-pairing", "watcher")
	var relist bool
	var reqs []protocol.PendingRequest
	var res []protocol.ResolvedEvent
	ups := collect(t, c, func(u protocol.Update) bool {
		if u.Event == nil || u.Event.Event != protocol.EventPairRequested {
			return false
		}
		var r protocol.PendingRequest
		_ = json.Unmarshal(u.Event.Payload, &r)
		return r.Kind == protocol.KindNode && r.DisplayName == "Recorder G" // G's commands, after its device was approved
	})
	for _, u := range ups {
		relist = relist || u.Relist
		if u.Event == nil {
			continue
		}
		switch u.Event.Event {
		case protocol.EventPairRequested:
			var r protocol.PendingRequest
			_ = json.Unmarshal(u.Event.Payload, &r)
			reqs = append(reqs, r)
		case protocol.EventPairResolved:
			var r protocol.ResolvedEvent
			_ = json.Unmarshal(u.Event.Payload, &r)
			res = append(res, r)
		case protocol.EventTick:
		default:
			t.Errorf("event %q reached the consumer", u.Event.Event)
		}
	}
	if len(reqs) < 5 || reqs[0].Kind != protocol.KindDevice || reqs[0].Reason != protocol.PairingReasonNotPaired {
		t.Fatalf("requested = %+v", reqs)
	}
	// Supersede: the first request is resolved rejected, a new one filed.
	if res[0].RequestID != reqs[0].RequestID || res[0].Decision != protocol.DecisionRejected || res[0].Kind != protocol.KindDevice {
		t.Errorf("first resolution %+v, want the superseded request rejected", res[0])
	}
	if reqs[1].RequestID == reqs[0].RequestID || reqs[1].DisplayName != reqs[0].DisplayName {
		t.Errorf("superseding request %+v", reqs[1])
	}
	// Silent approvals resolve requests that were never queued: not shown.
	for _, r := range res {
		found := false
		for _, q := range reqs {
			found = found || q.RequestID == r.RequestID
		}
		if !found {
			t.Errorf("resolution of a request never queued: %+v", r)
		}
	}
	if !relist {
		t.Errorf("a repair of a device this client has no record of should ask for a list (its reason)")
	}
}

// 2026.7.35 sends device.pair.* events too, but pairs nodes the old way:
// its queue is node.pair.* only, as before.
func TestOpenClawNodePairingGatewayIgnoresDeviceEvents(t *testing.T) {
	c, _ := dialReplay(t, "2026.7.35", "device-pairing", "watcher")
	ups := collect(t, c, func(u protocol.Update) bool {
		return u.Event != nil && u.Event.Event == protocol.EventPairRequested
	})
	var r protocol.PendingRequest
	_ = json.Unmarshal(ups[len(ups)-1].Event.Payload, &r)
	if r.Kind != protocol.KindNode || r.DisplayName != "Recorder G" {
		t.Errorf("first queue event = %+v, want G's node request (device requests are not this gateway's queue)", r)
	}
	for _, ev := range eventsOf(ups[:len(ups)-1]) {
		if ev.Event != protocol.EventTick {
			t.Errorf("event %q reached the consumer", ev.Event)
		}
	}
}

// OpenClaw's presence and 2026.9's node.presence have other shapes than
// pairdeck's presence: they never reach the consumer.
func TestOpenClawPresenceIsNotPairdeckPresence(t *testing.T) {
	c, g := dialReplay(t, "2026.9.6", "handshake", "op-device-3to4")
	g.PushRaw(t, `{"type":"event","event":"node.presence","payload":{"nodeId":"n1","lastActiveAtMs":1796562976823,"presenceUpdatedAtMs":1796562976823},"seq":7}`)
	g.PushRaw(t, `{"type":"event","event":"node.presence","payload":{"nodeId":"n1","lastActiveAtMs":null,"presenceUpdatedAtMs":null}}`)
	g.PushRaw(t, `{"type":"event","event":"presence","payload":{"presence":[{"host":"vm","mode":"gateway","ts":1}]},"seq":8}`)
	g.PushRaw(t, `{"type":"event","event":"pairdeck.node.presence","payload":{"nodeId":"n1","connected":false,"ts":1}}`)
	g.PushRaw(t, `{"type":"event","event":"tick","payload":{"ts":2}}`)
	ups := collect(t, c, func(u protocol.Update) bool { return u.Event != nil && u.Event.Event == protocol.EventTick })
	for _, ev := range eventsOf(ups) {
		if ev.Event != protocol.EventTick {
			t.Errorf("%s %s reached the consumer", ev.Event, ev.Payload)
		}
	}
}
