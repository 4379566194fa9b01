package tui

import (
	"strings"

	"github.com/pairdeck/pairdeck/tui/table"
)

// rowList is what every list view shares: rows in display order, an index
// by key, a filter and the rows it lets through, and a cursor over those.
// The cursor follows its row's key through inserts, refreshes and
// re-filtering, so a queue that changes under the operator does not move
// the selection to a different node.
type rowList[T any] struct {
	rows    []T
	pos     map[string]int // key → index in rows
	keyOf   func(T) string
	matches func(row T, query string) bool // query is lower-cased

	filter  string
	visible []int // indices into rows that pass the filter, in order
	cursor  table.Cursor
}

func newRowList[T any](keyOf func(T) string, matches func(T, string) bool) rowList[T] {
	return rowList[T]{keyOf: keyOf, matches: matches, pos: map[string]int{}}
}

// Len is the number of rows, filtered or not.
func (l *rowList[T]) Len() int { return len(l.rows) }

// Shown is the number of rows the filter lets through.
func (l *rowList[T]) Shown() int { return len(l.visible) }

// Set replaces every row.
func (l *rowList[T]) Set(rows []T) {
	keep := l.SelectedKey()
	l.rows = rows
	l.reindex()
	l.refilter(keep)
}

// Upsert replaces the row with r's key in place, or inserts r at the top
// (newest first). It reports whether r was new.
func (l *rowList[T]) Upsert(r T) bool {
	k := l.keyOf(r)
	if i, ok := l.pos[k]; ok {
		l.rows[i] = r
		l.refilter(l.SelectedKey())
		return false
	}
	keep := l.SelectedKey()
	l.rows = append(l.rows, r)
	copy(l.rows[1:], l.rows[:len(l.rows)-1])
	l.rows[0] = r
	l.reindex()
	l.refilter(keep)
	return true
}

// Get returns the row with key k.
func (l *rowList[T]) Get(k string) (T, bool) {
	if i, ok := l.pos[k]; ok {
		return l.rows[i], true
	}
	var zero T
	return zero, false
}

// Update changes the row with key k in place; the key must not change.
func (l *rowList[T]) Update(k string, change func(*T)) bool {
	i, ok := l.pos[k]
	if !ok {
		return false
	}
	change(&l.rows[i])
	l.refilter(l.SelectedKey())
	return true
}

// UpdateAll changes every row for which change reports true.
func (l *rowList[T]) UpdateAll(change func(*T) bool) int {
	n := 0
	for i := range l.rows {
		if change(&l.rows[i]) {
			n++
		}
	}
	if n > 0 {
		l.refilter(l.SelectedKey())
	}
	return n
}

// Remove deletes the row with key k. The cursor stays where it was, so the
// next row slides under it.
func (l *rowList[T]) Remove(k string) (T, bool) {
	removed := l.RemoveWhere(func(r T) bool { return l.keyOf(r) == k })
	if len(removed) == 0 {
		var zero T
		return zero, false
	}
	return removed[0], true
}

// RemoveWhere deletes every row for which drop reports true.
func (l *rowList[T]) RemoveWhere(drop func(T) bool) []T {
	keep := l.SelectedKey()
	var removed []T
	kept := l.rows[:0]
	for _, r := range l.rows {
		if drop(r) {
			removed = append(removed, r)
			continue
		}
		kept = append(kept, r)
	}
	if len(removed) == 0 {
		return nil
	}
	clear(l.rows[len(kept):])
	l.rows = kept
	l.reindex()
	l.refilter(keep)
	return removed
}

// SetFilter applies a query; the cursor stays on its row if it still shows.
func (l *rowList[T]) SetFilter(q string) {
	l.filter = q
	l.refilter(l.SelectedKey())
}

// Filter is the query in force.
func (l *rowList[T]) Filter() string { return l.filter }

// Selected is the row under the cursor.
func (l *rowList[T]) Selected() (T, bool) {
	if len(l.visible) == 0 {
		var zero T
		return zero, false
	}
	return l.rows[l.visible[l.cursor.Index]], true
}

// SelectedKey is the key of the row under the cursor, or "".
func (l *rowList[T]) SelectedKey() string {
	if r, ok := l.Selected(); ok {
		return l.keyOf(r)
	}
	return ""
}

// Visible reports whether the row with key k passes the filter.
func (l *rowList[T]) Visible(k string) bool {
	i, ok := l.pos[k]
	if !ok {
		return false
	}
	return l.filter == "" || l.matches(l.rows[i], strings.ToLower(l.filter))
}

// Window calls draw for each row in the cursor's window only, so drawing a
// frame costs the same for ten rows or ten thousand.
func (l *rowList[T]) Window(draw func(row T, selected bool)) {
	start, end := l.cursor.Window()
	for vi := start; vi < end; vi++ {
		draw(l.rows[l.visible[vi]], vi == l.cursor.Index)
	}
}

// Each calls f for every row, in order.
func (l *rowList[T]) Each(f func(T)) {
	for _, r := range l.rows {
		f(r)
	}
}

func (l *rowList[T]) reindex() {
	clear(l.pos)
	for i, r := range l.rows {
		l.pos[l.keyOf(r)] = i
	}
}

// refilter rebuilds the visible rows and puts the cursor back on keep.
func (l *rowList[T]) refilter(keep string) {
	q := strings.ToLower(l.filter)
	l.visible = l.visible[:0]
	at := -1
	for i, r := range l.rows {
		if q != "" && !l.matches(r, q) {
			continue
		}
		if keep != "" && at < 0 && l.keyOf(r) == keep {
			at = len(l.visible)
		}
		l.visible = append(l.visible, i)
	}
	l.cursor.SetLen(len(l.visible))
	if at >= 0 {
		l.cursor.MoveTo(at)
	}
}
