package tui

import (
	"slices"
	"strings"

	"github.com/pairdeck/pairdeck/tui/table"
)

// rowList is what every list view shares: rows in display order, an index
// by key, a filter and the rows it lets through, and a cursor over those.
// The cursor follows its row's key through inserts, refreshes and
// re-filtering, so a queue that changes under the operator does not move
// the selection to a different node.
//
// Cost. Rows are held by pointer and the index maps keys to rows, not to
// positions, so a new row at the top, a change in place or a removal
// touches one row and moves pointers at most: nothing is re-indexed,
// re-filtered or copied whole, however long the queue. The text the filter
// searches is made (and lower-cased) only while a filter is set, once per
// row until the row changes. Only Set, RemoveWhere, UpdateAll and a new
// filter visit every row.
type rowList[T any] struct {
	rows   []*rowItem[T] // display order
	pos    map[string]*rowItem[T]
	keyOf  func(T) string
	search func(T) string // the text a filter searches
	// order, when set, is the display order (a total order: no two rows
	// compare equal); without it, rows show newest first, as they came.
	order func(a, b T) int

	filter  string
	query   string        // filter, lower-cased
	visible []*rowItem[T] // rows that pass the filter, in order; unused without one
	cursor  table.Cursor
}

// rowItem is a row and, once a filter needed it, its lower-cased search
// text.
type rowItem[T any] struct {
	v      T
	hay    string
	hayset bool
}

func newRowList[T any](keyOf func(T) string, search func(T) string) rowList[T] {
	return rowList[T]{keyOf: keyOf, search: search, pos: map[string]*rowItem[T]{}}
}

// Len is the number of rows, filtered or not.
func (l *rowList[T]) Len() int { return len(l.rows) }

// Shown is the number of rows the filter lets through.
func (l *rowList[T]) Shown() int { return len(l.shown()) }

// shown is the rows the filter lets through, in order.
func (l *rowList[T]) shown() []*rowItem[T] {
	if l.query == "" {
		return l.rows
	}
	return l.visible
}

func (l *rowList[T]) matches(it *rowItem[T]) bool {
	if l.query == "" {
		return true
	}
	if !it.hayset {
		it.hay, it.hayset = strings.ToLower(l.search(it.v)), true
	}
	return strings.Contains(it.hay, l.query)
}

// Set replaces every row; rows must not hold two rows with one key.
func (l *rowList[T]) Set(rows []T) {
	l.SetFunc(len(rows), func(i int, r *T) { *r = rows[i] })
}

// SetFunc replaces every row with n rows that fill makes in place, in
// display order; no two may have one key.
//
// The rows and the index are replaced, not reused: a caller that kept
// them (rowsAndIndex) can still read the rows as they were while fill
// runs.
func (l *rowList[T]) SetFunc(n int, fill func(i int, r *T)) {
	keep := l.SelectedKey()
	items := make([]rowItem[T], n)
	l.rows = make([]*rowItem[T], n)
	l.pos = make(map[string]*rowItem[T], n)
	for i := range items {
		it := &items[i]
		fill(i, &it.v)
		l.rows[i] = it
		l.pos[l.keyOf(it.v)] = it
	}
	if l.order != nil {
		slices.SortFunc(l.rows, l.compare)
	}
	l.refilter(keep)
}

// snapshot is the rows as they are, in order, and by key; SetFunc leaves
// both as they were.
func (l *rowList[T]) snapshot() ([]*rowItem[T], map[string]*rowItem[T]) { return l.rows, l.pos }

// Upsert replaces the row with r's key in place, or inserts r where the
// order puts it (at the top without one: newest first). It reports whether
// r was new.
func (l *rowList[T]) Upsert(r T) bool {
	k := l.keyOf(r)
	if it, ok := l.pos[k]; ok {
		it.v, it.hayset = r, false
		l.changed(it)
		return false
	}
	it := &rowItem[T]{v: r}
	l.pos[k] = it
	at := l.place(l.rows, it)
	l.rows = insertAt(l.rows, at, it)
	if l.query == "" || l.matches(it) {
		if l.query != "" {
			at = l.place(l.visible, it)
			l.visible = insertAt(l.visible, at, it)
		}
		// The rows below the new one move down one, and the cursor with
		// its row (or onto the new row of an empty list).
		hadRows := l.cursor.Len > 0
		l.cursor.SetLen(l.cursor.Len + 1)
		if hadRows && at <= l.cursor.Index {
			l.cursor.MoveTo(l.cursor.Index + 1)
		}
	}
	return true
}

// place is where it goes in s (rows, or the visible ones) by the order: at
// the top without one.
func (l *rowList[T]) place(s []*rowItem[T], it *rowItem[T]) int {
	if l.order == nil {
		return 0
	}
	at, _ := slices.BinarySearchFunc(s, it, l.compare)
	return at
}

func (l *rowList[T]) compare(a, b *rowItem[T]) int { return l.order(a.v, b.v) }

// changed puts a row whose value changed where the order now wants it,
// and refreshes the filter; the cursor stays on its row.
func (l *rowList[T]) changed(it *rowItem[T]) {
	keep := l.SelectedKey()
	moved := false
	if l.order != nil {
		at := indexOf(l.rows, it)
		if (at > 0 && l.compare(l.rows[at-1], it) > 0) || (at+1 < len(l.rows) && l.compare(it, l.rows[at+1]) > 0) {
			l.rows = removeItem(l.rows, it)
			l.rows = insertAt(l.rows, l.place(l.rows, it), it)
			moved = true
		}
	}
	if moved || l.query != "" {
		l.refilter(keep)
	}
}

func insertAt[E any](s []E, at int, e E) []E {
	var zero E
	s = append(s, zero)
	copy(s[at+1:], s[at:len(s)-1])
	s[at] = e
	return s
}

// SetOrder sorts the rows by order (nil: leave them as they are, and put
// new rows at the top); the cursor stays on its row.
func (l *rowList[T]) SetOrder(order func(a, b T) int) {
	l.order = order
	if order == nil {
		return
	}
	keep := l.SelectedKey()
	slices.SortFunc(l.rows, l.compare)
	l.refilter(keep)
}

// Get returns the row with key k.
func (l *rowList[T]) Get(k string) (T, bool) {
	if it, ok := l.pos[k]; ok {
		return it.v, true
	}
	var zero T
	return zero, false
}

// Update changes the row with key k in place; the key must not change.
func (l *rowList[T]) Update(k string, change func(*T)) bool {
	it, ok := l.pos[k]
	if !ok {
		return false
	}
	change(&it.v)
	it.hayset = false
	l.changed(it)
	return true
}

// UpdateAll changes every row for which change reports true.
func (l *rowList[T]) UpdateAll(change func(*T) bool) int {
	n := 0
	keep := l.SelectedKey()
	for _, it := range l.rows {
		if change(&it.v) {
			it.hayset = false
			n++
		}
	}
	if n > 0 && l.order != nil {
		slices.SortFunc(l.rows, l.compare)
	}
	if n > 0 && (l.query != "" || l.order != nil) {
		l.refilter(keep)
	}
	return n
}

// Remove deletes the row with key k. The cursor stays where it was, so the
// next row slides under it.
func (l *rowList[T]) Remove(k string) (T, bool) {
	it, ok := l.pos[k]
	if !ok {
		var zero T
		return zero, false
	}
	delete(l.pos, k)
	at := indexOf(l.shown(), it)
	l.rows = removeItem(l.rows, it)
	if l.query != "" {
		l.visible = removeItem(l.visible, it)
	}
	if at >= 0 {
		if at < l.cursor.Index {
			l.cursor.Index--
		}
		l.cursor.SetLen(l.cursor.Len - 1)
	}
	return it.v, true
}

func indexOf[E comparable](s []E, e E) int {
	for i, x := range s {
		if x == e {
			return i
		}
	}
	return -1
}

func removeItem[E comparable](s []E, e E) []E {
	i := indexOf(s, e)
	if i < 0 {
		return s
	}
	var zero E
	copy(s[i:], s[i+1:])
	s[len(s)-1] = zero
	return s[:len(s)-1]
}

// RemoveWhere deletes every row for which drop reports true.
func (l *rowList[T]) RemoveWhere(drop func(T) bool) []T {
	var removed []T
	var gone map[*rowItem[T]]bool
	for _, it := range l.rows {
		if drop(it.v) {
			removed = append(removed, it.v)
			if gone == nil {
				gone = map[*rowItem[T]]bool{}
			}
			gone[it] = true
		}
	}
	if len(removed) == 0 {
		return nil
	}
	// The cursor keeps its row, or stays where it was if its row went.
	shown := l.shown()
	sel := (*rowItem[T])(nil)
	if l.cursor.Index < len(shown) {
		sel = shown[l.cursor.Index]
	}
	above := 0
	for _, it := range shown[:min(l.cursor.Index, len(shown))] {
		if gone[it] {
			above++
		}
	}
	keep := func(s []*rowItem[T]) []*rowItem[T] {
		kept := s[:0]
		for _, it := range s {
			if !gone[it] {
				kept = append(kept, it)
			}
		}
		clear(s[len(kept):])
		return kept
	}
	for it := range gone {
		delete(l.pos, l.keyOf(it.v))
	}
	l.rows = keep(l.rows)
	if l.query != "" {
		l.visible = keep(l.visible)
	}
	if sel != nil && !gone[sel] {
		l.cursor.Index -= above
	}
	l.cursor.SetLen(len(l.shown()))
	return removed
}

// SetFilter applies a query; the cursor stays on its row if it still shows.
func (l *rowList[T]) SetFilter(q string) {
	keep := l.SelectedKey()
	l.filter = q
	l.query = strings.ToLower(q)
	l.refilter(keep)
}

// Filter is the query in force.
func (l *rowList[T]) Filter() string { return l.filter }

// Selected is the row under the cursor.
func (l *rowList[T]) Selected() (T, bool) {
	shown := l.shown()
	if len(shown) == 0 || l.cursor.Index >= len(shown) {
		var zero T
		return zero, false
	}
	return shown[l.cursor.Index].v, true
}

// SelectedKey is the key of the row under the cursor, or "".
func (l *rowList[T]) SelectedKey() string {
	if r, ok := l.Selected(); ok {
		return l.keyOf(r)
	}
	return ""
}

// Restore puts rows back into the list at the positions they had (at,
// ascending, counted in the list they will be part of) — or, with an
// order, where it puts them (rows then in that order) — keeping the
// cursor on its row, or on the row with key sel when that is one of them.
// It moves pointers only: rows are not copied.
func (l *rowList[T]) Restore(at []int, rows []T, sel string) {
	out := make([]*rowItem[T], 0, len(l.rows)+len(rows))
	items := make([]rowItem[T], len(rows))
	next := 0
	for len(out) < cap(out) {
		back := len(rows) > 0 && next == len(l.rows)
		if len(rows) > 0 && !back {
			if l.order != nil {
				back = l.order(rows[0], l.rows[next].v) < 0
			} else {
				back = at[0] <= len(out)
			}
		}
		if back {
			it := &items[len(items)-len(rows)]
			it.v = rows[0]
			l.pos[l.keyOf(it.v)] = it
			out = append(out, it)
			at, rows = at[1:], rows[1:]
			continue
		}
		out = append(out, l.rows[next])
		next++
	}
	keep := l.SelectedKey()
	if _, ok := l.pos[sel]; ok && sel != "" {
		keep = sel
	}
	l.rows = out
	l.refilter(keep)
}

// Select puts the cursor on the row with key k, if it is shown.
func (l *rowList[T]) Select(k string) {
	if it, ok := l.pos[k]; ok {
		if at := indexOf(l.shown(), it); at >= 0 {
			l.cursor.MoveTo(at)
		}
	}
}

// Visible reports whether the row with key k passes the filter.
func (l *rowList[T]) Visible(k string) bool {
	it, ok := l.pos[k]
	return ok && l.matches(it)
}

// Window calls draw for each row in the cursor's window only, so drawing a
// frame costs the same for ten rows or ten thousand.
func (l *rowList[T]) Window(draw func(row T, selected bool)) {
	shown := l.shown()
	start, end := l.cursor.Window()
	for vi := start; vi < end && vi < len(shown); vi++ {
		draw(shown[vi].v, vi == l.cursor.Index)
	}
}

// Position is the cursor's window over the rows shown: the first and last
// row in view, counted from 1, of n. scrolls is false when all n fit.
func (l *rowList[T]) Position() (first, last, n int, scrolls bool) {
	start, end := l.cursor.Window()
	n = l.Shown()
	return start + 1, end, n, n > l.cursor.Height
}

// window is the rows in the cursor's window, without copying them, and
// the index among them of the row under the cursor (-1: none).
func (l *rowList[T]) window() (rows []*rowItem[T], selected int) {
	shown := l.shown()
	start, end := l.cursor.Window()
	end = min(end, len(shown))
	if start >= end {
		return nil, -1
	}
	return shown[start:end], l.cursor.Index - start
}

// Each calls f for every row, in order.
func (l *rowList[T]) Each(f func(T)) {
	for _, it := range l.rows {
		f(it.v)
	}
}

// refilter rebuilds the visible rows (with a filter set) and puts the
// cursor back on keep.
func (l *rowList[T]) refilter(keep string) {
	if l.query == "" {
		l.visible = nil
	} else {
		l.visible = l.visible[:0]
		for _, it := range l.rows {
			if l.matches(it) {
				l.visible = append(l.visible, it)
			}
		}
	}
	shown := l.shown()
	l.cursor.SetLen(len(shown))
	if it, ok := l.pos[keep]; ok && keep != "" {
		if at := indexOf(shown, it); at >= 0 {
			l.cursor.MoveTo(at)
		}
	}
}
