package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"text/tabwriter"
)

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// formatValue prints a figure with the precision its size deserves and
// no trailing zeros: 1516 ops/s, 13.5 ms, 0.985 ms.
func formatValue(v float64) string {
	switch {
	case math.Abs(v) >= 100:
		v = round(v, 0)
	case math.Abs(v) >= 10:
		v = round(v, 1)
	default:
		v = round(v, 3)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// WriteTable prints the figures, the growth table and the notes.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tUNIT\tTARGET\tMET\tSAMPLES\tWHAT")
	for _, f := range r.Figures {
		target, met := "", ""
		if f.Target != nil {
			target = f.Target.String()
			met = "yes"
			if !f.Met() {
				met = "NO (" + missBy(f) + ")"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", f.Key, formatValue(f.Value), f.Unit, target, met, f.Samples, f.Label)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if rows := r.growth(); len(rows) > 0 {
		s, l := sizeName(r.Options.Small), sizeName(r.Options.Large)
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "GROWTH\t%s\t%s\t×\tTARGET\tMET\n", s, l)
		for _, g := range rows {
			target, met := "", ""
			if g.max > 0 {
				target, met = "≤ "+formatRatio(g.max), "yes"
				if !g.met() {
					met = "NO"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", g.name, formatValue(g.small), formatValue(g.large), formatRatio(g.ratio), target, met)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintln(w, "note: "+n)
		}
	}
	quick := ""
	if r.Options.Samples < 1 {
		quick = fmt.Sprintf(" (%.0f%% of the samples: a smoke run, not figures to quote)", r.Options.Samples*100)
	}
	_, err := fmt.Fprintf(w, "\n%s, %d CPUs, %s; load average %.2f before, %.2f after; run took %.0fs%s\n",
		runtime.Version(), runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH, r.LoadBefore, r.LoadAfter, r.Duration.Seconds(), quick)
	return err
}

// missBy says how far a figure is from its target: "3.2× over".
func missBy(f Figure) string {
	if f.Target == nil || f.Target.Limit == 0 || f.Value == 0 {
		return "missed"
	}
	if f.Target.AtMost {
		return formatRatio(f.Value/f.Target.Limit) + " over"
	}
	return formatRatio(f.Target.Limit/f.Value) + " short"
}

func formatRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	if x >= 10 {
		return strconv.FormatFloat(x, 'f', 0, 64) + "×"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

type growthRow struct {
	name         string
	small, large float64
	ratio        float64
	max          float64 // target; 0 when none
}

func (g growthRow) met() bool { return g.max == 0 || (!math.IsNaN(g.ratio) && g.ratio <= g.max) }

// growth resolves the growth rows whose two figures were measured.
func (r *Report) growth() []growthRow {
	var out []growthRow
	for _, g := range r.Growth {
		s, ok1 := r.Figure(g.Small)
		l, ok2 := r.Figure(g.Large)
		if !ok1 || !ok2 {
			continue
		}
		ratio := math.NaN()
		if s.Value != 0 {
			ratio = l.Value / s.Value
		}
		out = append(out, growthRow{name: g.Name, small: s.Value, large: l.Value, ratio: ratio, max: g.Max})
	}
	return out
}

// WriteJSON prints one JSON object: every figure's value as a top-level
// key, then what each figure is (label, unit, samples), the targets,
// growth, notes, the fleet sizes and a description of the run.
func (r *Report) WriteJSON(w io.Writer) error {
	var buf bytes.Buffer
	buf.WriteString("{\n")
	first := true
	member := func(k string, v any) error {
		b, err := json.MarshalIndent(v, "  ", "  ")
		if err != nil {
			return err
		}
		if !first {
			buf.WriteString(",\n")
		}
		first = false
		kb, _ := json.Marshal(k)
		buf.WriteString("  ")
		buf.Write(kb)
		buf.WriteString(": ")
		buf.Write(b)
		return nil
	}
	for _, f := range r.Figures {
		if err := member(f.Key, f.Value); err != nil {
			return err
		}
	}
	type targetJSON struct {
		Target string  `json:"target"`
		Limit  float64 `json:"limit"`
		Value  float64 `json:"value"`
		Met    bool    `json:"met"`
		Miss   string  `json:"miss,omitempty"`
	}
	tg := map[string]targetJSON{}
	for _, f := range r.Figures {
		if f.Target == nil {
			continue
		}
		t := targetJSON{Target: f.Target.String(), Limit: f.Target.Limit, Value: f.Value, Met: f.Met()}
		if !t.Met {
			t.Miss = missBy(f)
		}
		tg[f.Key] = t
	}
	type figureJSON struct {
		Label   string `json:"label"`
		Unit    string `json:"unit"`
		Samples int    `json:"samples"`
	}
	about := map[string]figureJSON{}
	for _, f := range r.Figures {
		about[f.Key] = figureJSON{Label: f.Label, Unit: f.Unit, Samples: f.Samples}
	}
	if err := member("figures", about); err != nil {
		return err
	}
	if err := member("targets", tg); err != nil {
		return err
	}
	type growthJSON struct {
		Small float64  `json:"small"`
		Large float64  `json:"large"`
		Ratio float64  `json:"ratio"`
		Max   *float64 `json:"max,omitempty"`
		Met   *bool    `json:"met,omitempty"`
	}
	gr := map[string]growthJSON{}
	for _, g := range r.growth() {
		ratio := g.ratio
		if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
			ratio = 0
		}
		row := growthJSON{Small: g.small, Large: g.large, Ratio: round(ratio, 2)}
		if g.max > 0 {
			m, met := g.max, g.met()
			row.Max, row.Met = &m, &met
		}
		gr[g.name] = row
	}
	if err := member("growth", gr); err != nil {
		return err
	}
	notes := r.Notes
	if notes == nil {
		notes = []string{}
	}
	if err := member("notes", notes); err != nil {
		return err
	}
	sizes := map[string]int{"small": r.Options.Small, "large": r.Options.Large, "queue": r.Options.Queue}
	if err := member("sizes", sizes); err != nil {
		return err
	}
	if err := member("run", r.meta()); err != nil {
		return err
	}
	buf.WriteString("\n}\n")
	_, err := w.Write(buf.Bytes())
	return err
}

// Missed lists the figures, and the growths, that are outside their
// targets.
func (r *Report) Missed() []string {
	var out []string
	for _, f := range r.Figures {
		if !f.Met() {
			out = append(out, fmt.Sprintf("%s %s %s (target %s, %s)", f.Key, formatValue(f.Value), f.Unit, f.Target, missBy(f)))
		}
	}
	for _, g := range r.growth() {
		if !g.met() {
			out = append(out, fmt.Sprintf("%s grows %s from %s to %s (target ≤ %s)", g.name, formatRatio(g.ratio), sizeName(r.Options.Small), sizeName(r.Options.Large), formatRatio(g.max)))
		}
	}
	return out
}
