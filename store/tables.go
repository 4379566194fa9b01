package store

import "container/heap"

// orderList keeps a file's members in insertion order (as OpenClaw's files
// do: a refreshed or re-approved record keeps its place). Removal leaves a
// hole that is compacted once holes dominate, so removal is O(1) amortized.
type orderList struct {
	items []member
	holes int
}

func (o *orderList) add(m member) {
	m.file().pos = len(o.items)
	o.items = append(o.items, m)
}

// swap puts m in old's place.
func (o *orderList) swap(old, m member) {
	pos := old.file().pos
	o.items[pos] = m
	m.file().pos = pos
	old.file().pos = -1
}

func (o *orderList) remove(m member) {
	r := m.file()
	o.items[r.pos] = nil
	r.pos = -1
	o.holes++
	if o.holes > 64 && o.holes*2 > len(o.items) {
		live := o.items[:0]
		for _, it := range o.items {
			if it != nil {
				it.file().pos = len(live)
				live = append(live, it)
			}
		}
		clear(o.items[len(live):])
		o.items = live
		o.holes = 0
	}
}

// pendingTable is pending.json in memory.
type pendingTable struct {
	byID   map[string]*pendingEntry
	byNode map[string]*pendingEntry // the node's current request
	order  orderList
	expiry expiryHeap
	// listed is every request newest first, as lists show them; nil once
	// a change makes it stale (list.go).
	listed []*pendingEntry
}

func newPendingTable() *pendingTable {
	return &pendingTable{byID: map[string]*pendingEntry{}, byNode: map[string]*pendingEntry{}}
}

func (t *pendingTable) insert(e *pendingEntry) {
	t.byID[e.key] = e
	// A file written by another gateway may hold two requests for one node;
	// the newest is the node's current one.
	if cur, ok := t.byNode[e.rec.NodeID]; !ok || cur.rec.TS <= e.rec.TS {
		t.byNode[e.rec.NodeID] = e
	}
	t.order.add(e)
	heap.Push(&t.expiry, e)
	t.listed = nil
}

func (t *pendingTable) remove(e *pendingEntry) {
	delete(t.byID, e.key)
	if t.byNode[e.rec.NodeID] == e {
		delete(t.byNode, e.rec.NodeID)
	}
	t.order.remove(e)
	heap.Remove(&t.expiry, e.heapIdx)
	t.listed = nil
}

// replace puts e where old is (same place in the file), as a journal
// replay does for a request that changed.
func (t *pendingTable) replace(old, e *pendingEntry) {
	t.byID[e.key] = e
	if t.byNode[old.rec.NodeID] == old {
		delete(t.byNode, old.rec.NodeID)
	}
	if cur, ok := t.byNode[e.rec.NodeID]; !ok || cur.rec.TS <= e.rec.TS {
		t.byNode[e.rec.NodeID] = e
	}
	t.order.swap(old, e)
	heap.Remove(&t.expiry, old.heapIdx)
	heap.Push(&t.expiry, e)
	t.listed = nil
}

// retimed restores the heap and list order after e.rec.TS changed.
func (t *pendingTable) retimed(e *pendingEntry) {
	heap.Fix(&t.expiry, e.heapIdx)
	t.listed = nil
}

// pairedTable is paired.json in memory.
type pairedTable struct {
	byNode map[string]*pairedEntry
	order  orderList
	// listed is every node newest approval first, as lists show them; nil
	// once a change makes it stale (list.go).
	listed []*pairedEntry
}

func newPairedTable() *pairedTable {
	return &pairedTable{byNode: map[string]*pairedEntry{}}
}

func (t *pairedTable) insert(e *pairedEntry) {
	t.byNode[e.key] = e
	t.order.add(e)
	t.listed = nil
}

func (t *pairedTable) remove(e *pairedEntry) {
	delete(t.byNode, e.key)
	t.order.remove(e)
	t.listed = nil
}

// replace puts e where old is (same place in the file), as a journal
// replay does for a node that changed.
func (t *pairedTable) replace(old, e *pairedEntry) {
	t.byNode[e.key] = e
	t.order.swap(old, e)
	t.listed = nil
}

// expiryHeap orders pending requests by timestamp; with one TTL for all,
// the oldest timestamp is the next to expire.
type expiryHeap []*pendingEntry

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) Less(i, j int) bool {
	if h[i].rec.TS != h[j].rec.TS {
		return h[i].rec.TS < h[j].rec.TS
	}
	return h[i].seq < h[j].seq
}

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*pendingEntry)
	e.heapIdx = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.heapIdx = -1
	return e
}

func (h expiryHeap) peek() *pendingEntry {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}
