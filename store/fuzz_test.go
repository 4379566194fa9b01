package store

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/pairdeck/pairdeck/protocol"
)

// Loading must never panic: a file either loads or is refused with
// ErrCorrupt. What loads is written back in a form that loads again to the
// same bytes.

var pendingSeeds = []string{
	tracePendingN1,
	tracePendingN3,
	`{}`,
	`{"r": {"requestId": "r", "nodeId": "n", "ts": 1, "silent": true, "extra": {"a": [1, null]}}}`,
	`{"r": {"requestId": "r", "nodeId": "n", "requiredApproveScopes": ["x"], "expiresAtMs": 5}}`,
	`{"r": {"requestId": "r"`,
	`[]`,
	``,
}

var pairedSeeds = []string{
	tracePairedLegacy,
	`{}`,
	`{"n1": {"nodeId": "n1", "tokenSha256": "1A20E4DD6CC1207155B4589F93516EB7DA4053485D7F19360FF9DB17DAC6EA8C", "createdAtMs": 1, "approvedAtMs": 2}}`,
	`{"n1": {"nodeId": "n1", "token": "t", "tokenSha256": "00", "caps": [], "lastConnectedAtMs": 9, "x": "y"}}`,
	`{"n1": {"nodeId": "n2"}}`,
	`{"n1": 1}`,
}

func FuzzLoadPending(f *testing.F) {
	for _, s := range pendingSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var seq uint64
		tab, err := decodePending("pending.json", data, &seq, false)
		checkScanAgrees(t, data, err)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error is not ErrCorrupt: %v", err)
			}
			return
		}
		if len(tab.byID) != len(tab.expiry) {
			t.Fatalf("%d records, %d in the expiry heap", len(tab.byID), len(tab.expiry))
		}
		out, err := assembleFile(tab.order.items)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodePending("pending.json", out, &seq, false)
		if err != nil {
			t.Fatalf("written form does not load: %v\n%s", err, out)
		}
		if out2, _ := assembleFile(again.order.items); !bytes.Equal(out, out2) {
			t.Fatalf("written form is not stable:\n%s\n%s", out, out2)
		}
		for _, e := range tab.byID {
			if e.rec.RequiredApproveScopes != nil || e.rec.ExpiresAtMs != 0 {
				t.Fatal("computed fields kept on disk")
			}
		}
	})
}

func FuzzLoadPaired(f *testing.F) {
	for _, s := range pairedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := decodePaired("paired.json", data, false)
		checkScanAgrees(t, data, err)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error is not ErrCorrupt: %v", err)
			}
			return
		}
		out, err := assembleFile(tab.order.items)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodePaired("paired.json", out, false)
		if err != nil {
			t.Fatalf("written form does not load: %v\n%s", err, out)
		}
		if out2, _ := assembleFile(again.order.items); !bytes.Equal(out, out2) {
			t.Fatalf("written form is not stable:\n%s\n%s", out, out2)
		}
		for id, e := range tab.byNode {
			if e2 := again.byNode[id]; e2 == nil || e2.digest != e.digest || e2.hasToken != e.hasToken || e2.rec.Token != e.rec.Token {
				t.Fatalf("token of %q changed (or changed form) across a rewrite", id)
			}
		}
	})
}

// checkScanAgrees holds the fast member scanner to encoding/json's decoder:
// where both accept a file they split it identically, and a file only the
// scanner accepts must not load.
func checkScanAgrees(t *testing.T, data []byte, loadErr error) {
	t.Helper()
	fast, fastErr := scanObject(data)
	if fastErr != nil {
		return // the loader used the decoder
	}
	slow, slowErr := decodeObject("f", data)
	if slowErr != nil {
		if loadErr == nil {
			t.Fatalf("loaded a file the decoder rejects (%v)", slowErr)
		}
		return
	}
	if len(fast) != len(slow) {
		t.Fatalf("scanner found %d members, decoder %d", len(fast), len(slow))
	}
	for i := range fast {
		if fast[i].key != slow[i].key || !bytes.Equal(fast[i].raw, slow[i].raw) || fast[i].off != slow[i].off {
			t.Fatalf("member %d: scanner %q@%d %q, decoder %q@%d %q",
				i, fast[i].key, fast[i].off, fast[i].raw, slow[i].key, slow[i].off, slow[i].raw)
		}
	}
}

// segmentFor builds a journal segment from records of entries, for seeds.
func segmentFor(records ...[]journalEntry) []byte {
	data := append([]byte(journalMagic), make([]byte, 8)...)
	var b recordBuilder
	for i, entries := range records {
		b.begin(uint64(i+1), int64(1795262299140+i))
		for _, e := range entries {
			b.add(e.kind, e.key, e.val)
		}
		data = append(data, b.finish()...)
	}
	return data
}

// Replaying any journal segment never panics: it is refused as corrupt or
// replays, and replaying it again over the result changes nothing (a put
// carries a record's whole state).
func FuzzReplayJournal(f *testing.F) {
	req := []byte(`{"requestId": "r1", "nodeId": "n1", "displayName": "One", "ts": 1795262299140}`)
	node := []byte(`{"nodeId": "n1", "tokenSha256": "1a20e4dd6cc1207155b4589f93516eb7da4053485d7f19360ff9db17dac6ea8c", "createdAtMs": 1, "approvedAtMs": 2}`)
	full := segmentFor(
		[]journalEntry{{kind: entryPendingPut, key: "r1", val: req}, {kind: entryAudit, val: []byte("{\"ts\":1,\"seq\":1,\"action\":\"requested\"}\n")}},
		[]journalEntry{{kind: entryPendingDel, key: "r1"}, {kind: entryPairedPut, key: "n1", val: node}},
		[]journalEntry{{kind: entryPairedDel, key: "n1"}},
		[]journalEntry{{kind: entryPairedPut, key: "n1", val: node}},
	)
	// The second argument is a record payload the harness frames with a
	// good length and checksum, so that the fuzzer reaches the payload's
	// own parsing as well as the framing's.
	var b recordBuilder
	b.begin(9, 1)
	b.add(entryPendingPut, "r1", req)
	payload := b.finish()[recordHeaderLen:]
	f.Add(full, []byte(nil))
	f.Add(full[:len(full)-3], []byte(nil))
	f.Add(append([]byte(nil), full[:journalHeaderLen]...), payload)
	f.Add(full, payload)
	f.Add(segmentFor([]journalEntry{{kind: entryPendingPut, key: "r2", val: []byte(`{"requestId": "r2", "nodeId": "x\u001b"}`)}}), []byte(nil))
	f.Add(segmentFor([]journalEntry{{kind: entryPairedPut, key: "n2", val: []byte(`[]`)}}), []byte(nil))
	f.Add([]byte("PDJRNL01\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00"), []byte(nil))
	code := []byte(`{"id": "c1", "prefix": "K7QM", "scope": {}, "createdAtMs": 1, "createdBy": "cli", "expiresAtMs": 2, "maxUses": 1, "uses": 0, "sha256": "08031bfcca04f6b29c4fed5e103a6ea0b554d17e0ed4599159ddab9d8ad33d7e"}`)
	f.Add(segmentFor(
		[]journalEntry{{kind: entryCodePut, key: "c1", val: code}},
		[]journalEntry{{kind: entryCodeDel, key: "c1"}, {kind: entryCodeDel, key: "c2"}},
		[]journalEntry{{kind: entryCodePut, key: "c1", val: code}},
	), []byte(nil))
	f.Fuzz(func(t *testing.T, data, payload []byte) {
		if len(payload) > 0 {
			var b recordBuilder
			b.buf = append(make([]byte, recordHeaderLen), payload...)
			data = append(slices.Clip(data), b.finish()...)
		}
		seg, err := parseSegment("journal.1.wal", data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("not ErrCorrupt: %v", err)
			}
			return
		}
		if seg.size+seg.torn != int64(len(data)) || seg.size < journalHeaderLen {
			t.Fatalf("size %d + torn %d != %d", seg.size, seg.torn, len(data))
		}
		st := &loadedState{pending: newPendingTable(), paired: newPairedTable(), codes: newCodeTable(), segs: []*segmentData{seg}}
		s := &Store{}
		if err := s.replay(st); err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("replay error is not ErrCorrupt: %v", err)
			}
			return
		}
		if len(st.pending.byID) != len(st.pending.expiry) {
			t.Fatalf("%d requests, %d in the expiry heap", len(st.pending.byID), len(st.pending.expiry))
		}
		once := tablesText(t, st)
		if err := s.replay(st); err != nil {
			t.Fatalf("replaying again: %v", err)
		}
		if again := tablesText(t, st); again != once {
			t.Fatalf("replaying twice differs:\n%s\n%s", once, again)
		}
	})
}

func tablesText(t *testing.T, st *loadedState) string {
	t.Helper()
	p, err := assembleFile(st.pending.order.items)
	if err != nil {
		t.Fatal(err)
	}
	q, err := assembleFile(st.paired.order.items)
	if err != nil {
		t.Fatal(err)
	}
	var c []byte
	for _, e := range st.codes.sorted() {
		c = append(append(c, e.body()...), '\n')
	}
	return string(p) + "\n" + string(q) + "\n" + string(c)
}

// Where the reflection-free decoder reads a record, it reads what
// encoding/json reads, unknown members included.
func FuzzFastDecodeAgrees(f *testing.F) {
	for _, s := range append(append([]string{}, pendingSeeds...), pairedSeeds...) {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"requestId": "r", "nodeId": "n", "caps": [], "commands": ["a", "b"], "ts": -5, "silent": null, "x": {"y": [1]}}`))
	f.Add([]byte(`{"nodeId": "n", "NodeId": "m", "createdAtMs": 01}`))
	f.Add([]byte(`{"nodeId": "n\u00e9", "displayName": "caf\u00e9", "approvedAtMs": 1e3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, mk := range []func() any{
			func() any { return new(protocol.PendingRequest) },
			func() any { return new(protocol.PairedNode) },
		} {
			fast, slow := mk(), mk()
			fx, ok := fastDecode(data, fast)
			if !ok {
				continue
			}
			sx, err := slowDecodeRecord("f", data, 0, slow)
			if err != nil {
				t.Fatalf("fast decode took what encoding/json refuses (%v): %s", err, data)
			}
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast %+v\nslow %+v\nof %s", fast, slow, data)
			}
			if len(fx) != len(sx) || (len(fx) > 0 && !reflect.DeepEqual(fx, sx)) {
				t.Fatalf("unknown members: fast %q, slow %q", fx, sx)
			}
		}
	})
}
