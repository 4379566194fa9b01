package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pairdeck/pairdeck/tui/table"
)

// The row list keeps its index and filter incrementally. This test drives
// it and the straightforward version it replaced (below: every change
// re-indexes and re-filters the whole list) with the same random
// operations, and checks that they always agree on the rows, the filter,
// the cursor and the window.
func TestRowListMatchesTheStraightforwardList(t *testing.T) {
	type row struct{ key, name string }
	keyOf := func(r row) string { return r.key }
	search := func(r row) string { return r.name + "\x00" + r.key }
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 7))
		got := newRowList(keyOf, search)
		want := newRefRowList(keyOf, func(r row, q string) bool { return strings.Contains(strings.ToLower(search(r)), q) })
		got.cursor.SetHeight(5)
		want.cursor.SetHeight(5)
		// Half the lists keep an order (by name, then key) from the start.
		byName := func(a, b row) int {
			if c := strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)); c != 0 {
				return c
			}
			return strings.Compare(a.key, b.key)
		}
		if seed%2 == 1 {
			got.SetOrder(byName)
			want.SetOrder(byName)
		}
		next := 0
		randomKey := func() string {
			if next == 0 {
				return "k0"
			}
			return fmt.Sprintf("k%d", rng.IntN(next))
		}
		names := []string{"Alpha", "beta", "GAMMA", "alphabet", "Delta"}
		newRow := func(key string) row { return row{key: key, name: names[rng.IntN(len(names))]} }
		for step := range 300 {
			var op string
			switch n := rng.IntN(100); {
			case n < 30:
				op = "insert"
				r := newRow(fmt.Sprintf("k%d", next))
				next++
				if a, b := got.Upsert(r), want.Upsert(r); a != b {
					t.Fatalf("seed %d step %d: Upsert new = %v, want %v", seed, step, a, b)
				}
			case n < 40:
				op = "refresh"
				r := newRow(randomKey())
				if a, b := got.Upsert(r), want.Upsert(r); a != b {
					t.Fatalf("seed %d step %d: Upsert = %v, want %v", seed, step, a, b)
				}
			case n < 48:
				op = "update"
				k, name := randomKey(), names[rng.IntN(len(names))]
				change := func(r *row) { r.name = name }
				if a, b := got.Update(k, change), want.Update(k, change); a != b {
					t.Fatalf("seed %d step %d: Update = %v, want %v", seed, step, a, b)
				}
			case n < 53:
				op = "update all"
				name := names[rng.IntN(len(names))]
				change := func(r *row) bool {
					if strings.HasSuffix(r.key, "3") {
						r.name = name
						return true
					}
					return false
				}
				if a, b := got.UpdateAll(change), want.UpdateAll(change); a != b {
					t.Fatalf("seed %d step %d: UpdateAll = %v, want %v", seed, step, a, b)
				}
			case n < 68:
				op = "remove"
				k := randomKey()
				a, okA := got.Remove(k)
				b, okB := want.Remove(k)
				if a != b || okA != okB {
					t.Fatalf("seed %d step %d: Remove = %v %v, want %v %v", seed, step, a, okA, b, okB)
				}
			case n < 72:
				op = "remove where"
				d := fmt.Sprint(rng.IntN(10))
				drop := func(r row) bool { return strings.HasSuffix(r.key, d) }
				if a, b := got.RemoveWhere(drop), want.RemoveWhere(drop); !slices.Equal(a, b) {
					t.Fatalf("seed %d step %d: RemoveWhere = %v, want %v", seed, step, a, b)
				}
			case n < 75:
				op = "order"
				order := byName
				if rng.IntN(3) == 0 {
					order = nil
				}
				got.SetOrder(order)
				want.SetOrder(order)
			case n < 78:
				op = "filter"
				q := []string{"", "", "alpha", "ALP", "k1", "zzz", "a"}[rng.IntN(7)]
				got.SetFilter(q)
				want.SetFilter(q)
			case n < 82:
				op = "set"
				var rows []row
				seen := map[string]bool{}
				for range rng.IntN(12) {
					k := randomKey()
					if !seen[k] {
						seen[k] = true
						rows = append(rows, newRow(k))
					}
				}
				got.Set(slices.Clone(rows))
				want.Set(slices.Clone(rows))
			default:
				op = "move"
				moves := []func(*table.Cursor){(*table.Cursor).Up, (*table.Cursor).Down, (*table.Cursor).Top, (*table.Cursor).Bottom, (*table.Cursor).PageDown, (*table.Cursor).PageUp}
				m := moves[rng.IntN(len(moves))]
				m(&got.cursor)
				m(&want.cursor)
			}
			compareRowLists(t, fmt.Sprintf("seed %d step %d (%s)", seed, step, op), &got, &want)
		}
	}
}

func compareRowLists[T comparable](t *testing.T, at string, got *rowList[T], want *refRowList[T]) {
	t.Helper()
	var a, b []T
	got.Each(func(r T) { a = append(a, r) })
	want.Each(func(r T) { b = append(b, r) })
	if !slices.Equal(a, b) {
		t.Fatalf("%s: rows\n%v\nwant\n%v", at, a, b)
	}
	if got.Len() != want.Len() || got.Shown() != want.Shown() || got.Filter() != want.Filter() {
		t.Fatalf("%s: len %d shown %d filter %q, want %d %d %q", at, got.Len(), got.Shown(), got.Filter(), want.Len(), want.Shown(), want.Filter())
	}
	if got.cursor != want.cursor {
		t.Fatalf("%s: cursor %+v, want %+v", at, got.cursor, want.cursor)
	}
	if got.SelectedKey() != want.SelectedKey() {
		t.Fatalf("%s: selected %q, want %q", at, got.SelectedKey(), want.SelectedKey())
	}
	var wa, wb []string
	got.Window(func(r T, sel bool) { wa = append(wa, fmt.Sprint(r, sel)) })
	want.Window(func(r T, sel bool) { wb = append(wb, fmt.Sprint(r, sel)) })
	if !slices.Equal(wa, wb) {
		t.Fatalf("%s: window %v, want %v", at, wa, wb)
	}
	for _, r := range b {
		k := want.keyOf(r)
		if got.Visible(k) != want.Visible(k) {
			t.Fatalf("%s: Visible(%s) = %v", at, k, got.Visible(k))
		}
		if g, ok := got.Get(k); !ok || g != r {
			t.Fatalf("%s: Get(%s) = %v %v", at, k, g, ok)
		}
	}
}

// refRowList is the row list as it was before it kept its index and
// filter incrementally: the reference for the test above.
type refRowList[T any] struct {
	order   func(a, b T) int // kept sorted by it, when set
	rows    []T
	pos     map[string]int // key → index in rows
	keyOf   func(T) string
	matches func(row T, query string) bool // query is lower-cased

	filter  string
	visible []int // indices into rows that pass the filter, in order
	cursor  table.Cursor
}

func newRefRowList[T any](keyOf func(T) string, matches func(T, string) bool) refRowList[T] {
	return refRowList[T]{keyOf: keyOf, matches: matches, pos: map[string]int{}}
}

// Len is the number of rows, filtered or not.
func (l *refRowList[T]) Len() int { return len(l.rows) }

// Shown is the number of rows the filter lets through.
func (l *refRowList[T]) Shown() int { return len(l.visible) }

// Set replaces every row.
func (l *refRowList[T]) Set(rows []T) {
	keep := l.SelectedKey()
	l.rows = rows
	l.reindex()
	l.sortRows()
	l.refilter(keep)
}

// SetOrder sorts by order from now on (nil: leave the rows as they are).
func (l *refRowList[T]) SetOrder(order func(a, b T) int) {
	keep := l.SelectedKey()
	l.order = order
	l.sortRows()
	l.refilter(keep)
}

func (l *refRowList[T]) sortRows() {
	if l.order != nil {
		slices.SortStableFunc(l.rows, l.order)
		l.reindex()
	}
}

// Upsert replaces the row with r's key in place, or inserts r at the top
// (newest first). It reports whether r was new.
func (l *refRowList[T]) Upsert(r T) bool {
	k := l.keyOf(r)
	keep := l.SelectedKey()
	if i, ok := l.pos[k]; ok {
		l.rows[i] = r
		l.sortRows()
		l.refilter(keep)
		return false
	}
	l.rows = append(l.rows, r)
	copy(l.rows[1:], l.rows[:len(l.rows)-1])
	l.rows[0] = r
	l.reindex()
	l.sortRows()
	l.refilter(keep)
	return true
}

// Get returns the row with key k.
func (l *refRowList[T]) Get(k string) (T, bool) {
	if i, ok := l.pos[k]; ok {
		return l.rows[i], true
	}
	var zero T
	return zero, false
}

// Update changes the row with key k in place; the key must not change.
func (l *refRowList[T]) Update(k string, change func(*T)) bool {
	i, ok := l.pos[k]
	if !ok {
		return false
	}
	keep := l.SelectedKey()
	change(&l.rows[i])
	l.sortRows()
	l.refilter(keep)
	return true
}

// UpdateAll changes every row for which change reports true.
func (l *refRowList[T]) UpdateAll(change func(*T) bool) int {
	n := 0
	keep := l.SelectedKey()
	for i := range l.rows {
		if change(&l.rows[i]) {
			n++
		}
	}
	if n > 0 {
		l.sortRows()
		l.refilter(keep)
	}
	return n
}

// Remove deletes the row with key k. The cursor stays where it was, so the
// next row slides under it.
func (l *refRowList[T]) Remove(k string) (T, bool) {
	removed := l.RemoveWhere(func(r T) bool { return l.keyOf(r) == k })
	if len(removed) == 0 {
		var zero T
		return zero, false
	}
	return removed[0], true
}

// RemoveWhere deletes every row for which drop reports true.
func (l *refRowList[T]) RemoveWhere(drop func(T) bool) []T {
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
func (l *refRowList[T]) SetFilter(q string) {
	l.filter = q
	l.refilter(l.SelectedKey())
}

// Filter is the query in force.
func (l *refRowList[T]) Filter() string { return l.filter }

// Selected is the row under the cursor.
func (l *refRowList[T]) Selected() (T, bool) {
	if len(l.visible) == 0 {
		var zero T
		return zero, false
	}
	return l.rows[l.visible[l.cursor.Index]], true
}

// SelectedKey is the key of the row under the cursor, or "".
func (l *refRowList[T]) SelectedKey() string {
	if r, ok := l.Selected(); ok {
		return l.keyOf(r)
	}
	return ""
}

// Visible reports whether the row with key k passes the filter.
func (l *refRowList[T]) Visible(k string) bool {
	i, ok := l.pos[k]
	if !ok {
		return false
	}
	return l.filter == "" || l.matches(l.rows[i], strings.ToLower(l.filter))
}

// Window calls draw for each row in the cursor's window only, so drawing a
// frame costs the same for ten rows or ten thousand.
func (l *refRowList[T]) Window(draw func(row T, selected bool)) {
	start, end := l.cursor.Window()
	for vi := start; vi < end; vi++ {
		draw(l.rows[l.visible[vi]], vi == l.cursor.Index)
	}
}

// Each calls f for every row, in order.
func (l *refRowList[T]) Each(f func(T)) {
	for _, r := range l.rows {
		f(r)
	}
}

func (l *refRowList[T]) reindex() {
	clear(l.pos)
	for i, r := range l.rows {
		l.pos[l.keyOf(r)] = i
	}
}

// refilter rebuilds the visible rows and puts the cursor back on keep.
func (l *refRowList[T]) refilter(keep string) {
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

// Rows restored after a Set take back their places; the cursor stays on
// its row, or goes where it is told.
func TestRowListRestorePutsRowsBackInPlace(t *testing.T) {
	type row struct{ key string }
	l := newRowList(func(r row) string { return r.key }, func(r row) string { return r.key })
	l.cursor.SetHeight(10)
	l.Set([]row{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}})
	l.Select("c")
	l.Set([]row{{"b"}, {"d"}})
	l.Restore([]int{0, 2, 4}, []row{{"a"}, {"c"}, {"e"}}, "c")
	var got []string
	l.Each(func(r row) { got = append(got, r.key) })
	if fmt.Sprint(got) != "[a b c d e]" || l.SelectedKey() != "c" {
		t.Fatalf("rows %v, cursor on %q", got, l.SelectedKey())
	}
	if r, ok := l.Get("e"); !ok || r.key != "e" {
		t.Error("a restored row is not indexed")
	}
	l.SetFilter("d")
	l.Set([]row{{"a"}})
	l.Restore([]int{1}, []row{{"d"}}, "")
	if l.Shown() != 1 || l.SelectedKey() != "d" {
		t.Errorf("with a filter: shown %d, cursor on %q", l.Shown(), l.SelectedKey())
	}

	// With an order, rows go back where the order puts them.
	l.SetFilter("")
	l.SetOrder(func(a, b row) int { return strings.Compare(b.key, a.key) })
	l.Set([]row{{"b"}, {"d"}})
	l.Restore([]int{0, 0, 0}, []row{{"e"}, {"c"}, {"a"}}, "c")
	got = got[:0]
	l.Each(func(r row) { got = append(got, r.key) })
	if fmt.Sprint(got) != "[e d c b a]" || l.SelectedKey() != "c" {
		t.Fatalf("ordered: rows %v, cursor on %q", got, l.SelectedKey())
	}
}
