package table

import (
	"reflect"
	"testing"
)

var cols = []Column{
	{Title: "NAME", Min: 10, Grow: 2},
	{Title: "A", Min: 5, Max: 8, Grow: 1, Priority: 2},
	{Title: "B", Min: 6, Priority: 3},
	{Title: "TIME", Min: 6, Max: 6},
}

func TestLayoutHidesByPriorityAndKeepsTheEssentials(t *testing.T) {
	cases := []struct {
		width int
		want  []int
	}{
		{43, []int{17, 8, 6, 6}}, // everything fits: A grows to its cap, NAME takes the rest
		{33, []int{10, 5, 6, 6}}, // exactly the minimums (and three gaps of 2)
		{32, []int{15, 7, 0, 6}}, // B goes first; its room is shared by Grow
		{25, []int{10, 5, 0, 6}},
		{24, []int{16, 0, 0, 6}}, // then A; NAME and TIME never hide
		{13, []int{5, 0, 0, 6}},  // squeezed, never wider than the line
	}
	for _, c := range cases {
		got := Layout(cols, c.width)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Layout(%d) = %v, want %v", c.width, got, c.want)
		}
		if w := WidthOf(got); w > c.width {
			t.Errorf("Layout(%d) is %d wide", c.width, w)
		}
	}
}

func TestFitTruncatesAndPads(t *testing.T) {
	cases := []struct {
		s     string
		w     int
		right bool
		want  string
	}{
		{"Living Room iPad", 8, false, "Living …"},
		{"ios", 6, false, "ios   "},
		{"3m ago", 8, true, "  3m ago"},
		{"⚠ 0:42", 8, false, "⚠ 0:42  "},
		{"anything", 0, false, ""},
		{"\x1b[2Kevil", 12, false, `\x1b[2Kevil `},         // what a terminal would act on shows as text
		{"a\u202eb\u009bc", 16, false, `a\u202eb\u009bc `}, // bidi and C1 too
		{"\x1b]2;t\x07", 6, false, `\x1b]…`},               // and is cut as text
	}
	for _, c := range cases {
		if got := Fit(c.s, c.w, c.right); got != c.want {
			t.Errorf("Fit(%q, %d, %v) = %q, want %q", c.s, c.w, c.right, got, c.want)
		}
	}
}

func TestCursorKeepsItsWindow(t *testing.T) {
	c := Cursor{}
	c.SetHeight(5)
	c.SetLen(100)
	c.PageDown()
	if c.Index != 5 || c.Offset != 1 {
		t.Errorf("page down: %+v", c)
	}
	c.Bottom()
	if s, e := c.Window(); c.Index != 99 || s != 95 || e != 100 {
		t.Errorf("bottom: %+v window %d-%d", c, s, e)
	}
	c.SetLen(3) // the list shrank under the cursor
	if s, e := c.Window(); c.Index != 2 || s != 0 || e != 3 {
		t.Errorf("shrunk: %+v window %d-%d", c, s, e)
	}
	c.SetLen(0)
	c.Up()
	if s, e := c.Window(); c.Index != 0 || s != 0 || e != 0 {
		t.Errorf("empty: %+v window %d-%d", c, s, e)
	}
}

// Columns grow to their cells before any grows into blank space, so
// nothing is cut while the line has room; Max caps blank space, never
// content.
func TestLayoutFitGrowsColumnsToTheirContent(t *testing.T) {
	cases := []struct {
		width   int
		content []int
		want    []int
	}{
		// Room for everything: A's cells (12) pass its Max (8); the rest
		// of the spare goes to NAME by Grow.
		{60, []int{11, 12, 6, 6}, []int{30, 12, 6, 6}},
		// NAME's cells need 30: it gets them first; the 7 left go by Grow.
		{60, []int{30, 5, 6, 6}, []int{35, 7, 6, 6}},
		// Not enough room: the 10 spare go to the cut columns by Grow
		// (NAME 2, A 1), and the line is full.
		{43, []int{40, 20, 6, 6}, []int{17, 8, 6, 6}},
		// Cells that fit at Min change nothing against Layout.
		{43, []int{4, 1, 1, 4}, Layout(cols, 43)},
		// Hiding is by Min and Priority, as in Layout.
		{24, []int{30, 30, 30, 6}, []int{16, 0, 0, 6}},
	}
	for _, c := range cases {
		got := LayoutFit(cols, c.width, c.content)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("LayoutFit(%d, %v) = %v, want %v", c.width, c.content, got, c.want)
		}
		if w := WidthOf(got); w > c.width {
			t.Errorf("LayoutFit(%d, %v) is %d wide", c.width, c.content, w)
		}
	}
}

// TestLayoutFitReclaimsRoomAColumnDoesNotUse: a column held at its
// minimum wider than its cells (an address column of "—") gives the rest
// to a column whose cells are cut, and nothing is cut while it could be
// whole.
func TestLayoutFitReclaimsRoomAColumnDoesNotUse(t *testing.T) {
	cols := []Column{
		{Title: "NAME", Min: 8, Grow: 1},
		{Title: "LAST IP", Min: 15, Max: 15},
	}
	// 8 + 2 + 15 = 25 columns: the minimums fill the line.
	got := LayoutFit(cols, 25, []int{16, 7})
	if got[0] != 16 || got[1] != 7 {
		t.Fatalf("widths %v: want the name whole (16) and the address column at its cells (7)", got)
	}
	// With no cut column, minimums stay as they are.
	if got := LayoutFit(cols, 25, []int{6, 7}); got[1] != 15 {
		t.Errorf("widths %v: nothing was cut, so the address column keeps its minimum", got)
	}
}
