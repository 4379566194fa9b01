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
