// Package bench measures a real pairdeck gateway and console: it starts
// `pairdeck serve` as a child process on a temporary state dir (durable
// writes on, as always), drives it over loopback WebSockets with the real
// client, reads the child's memory from /proc, and times the console's
// model in this process. Run returns the figures; the bench command prints
// them as a table or one JSON object.
//
// Targets live here and in docs/benchmarks.md, never in tests: a run
// reports what it measured and which targets it met.
package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Stage names, for Options.Only.
const (
	StageIdle    = "idle"    // memory of an idle gateway
	StageRequest = "request" // sequential node.pair.request latency
	StageC16     = "c16"     // throughput: 16 operator clients; 16 nodes at a time
	StageFanout  = "fanout"  // event delivery to 50 consoles
	StagePaired  = "paired"  // every gateway figure with 1k and 10k paired
	StagePending = "pending" // list and request with 1k, 2k and 10k pending
	StageConsole = "console" // console frame, new-request and re-list cost
	StageOpen    = "open"    // restart after a crash with a large state and a full journal
	// StageConns (attack.go): memory with 5,000 sockets of each kind and
	// under 1,000 big frames.
)

// Stages is every stage in run order.
var Stages = []string{StageIdle, StageRequest, StageC16, StageFanout, StagePaired, StagePending, StageOpen, StageConsole, StageConns}

// Options configure a run. Zero sizes mean the defaults (1,000 and 10,000
// nodes, 2,000 pending); tests pass smaller ones.
type Options struct {
	// Gateway starts `pairdeck serve` (required for every stage but the
	// console's).
	Gateway Launcher
	// Quick takes a tenth of the samples: a smoke run, not figures to
	// quote.
	Quick bool
	// Samples is the fraction of the full sample counts to take (0 means
	// 1, or 0.1 with Quick); tests take far fewer.
	Samples float64
	// Only runs these stages (all when empty).
	Only []string
	// Small and Large are the two fleet sizes every scaled figure is
	// measured at; Queue is the pending-queue size of the list target.
	Small, Large, Queue int
	// TempDir holds the state dirs (os.TempDir() when empty); each is
	// removed after its stage.
	TempDir string
	// Progress receives one line per step (nil: silent).
	Progress io.Writer
}

func (o Options) withDefaults() (Options, error) {
	if o.Small <= 0 {
		o.Small = 1000
	}
	if o.Large <= 0 {
		o.Large = 10000
	}
	if o.Queue <= 0 {
		o.Queue = 2000
	}
	switch {
	case o.Samples < 0 || o.Samples > 1:
		return o, fmt.Errorf("sample fraction %v: want a value between 0 and 1", o.Samples)
	case o.Samples == 0 && o.Quick:
		o.Samples = 0.1
	case o.Samples == 0:
		o.Samples = 1
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	for _, s := range o.Only {
		if !slices.Contains(Stages, s) {
			return o, fmt.Errorf("unknown stage %q: want one of %s", s, strings.Join(Stages, ", "))
		}
	}
	return o, nil
}

func (o Options) runs(stage string) bool { return len(o.Only) == 0 || slices.Contains(o.Only, stage) }

// n scales a full sample count to the run's Samples (at least 2).
func (o Options) n(full int) int {
	return max(2, int(float64(full)*o.Samples+0.5))
}

// settle is how long a gateway is left alone before its memory is read:
// a second, less in runs too short for figures to quote.
func (o Options) settle() time.Duration {
	if o.Samples < 0.1 {
		return 100 * time.Millisecond
	}
	return time.Second
}

// Target is a bound a figure should stay within.
type Target struct {
	AtMost bool // true: value ≤ Limit; false: value ≥ Limit
	Limit  float64
}

func (t Target) met(v float64) bool {
	if t.AtMost {
		return v <= t.Limit
	}
	return v >= t.Limit
}

func (t Target) String() string {
	if t.AtMost {
		return "≤ " + formatValue(t.Limit)
	}
	return "≥ " + formatValue(t.Limit)
}

// Figure is one measured number.
type Figure struct {
	Key     string
	Label   string
	Unit    string
	Value   float64
	Samples int
	Target  *Target
}

// Met reports whether the figure is within its target (true without one).
func (f Figure) Met() bool { return f.Target == nil || f.Target.met(f.Value) }

// Growth compares one figure at the two fleet sizes. Max, when set, is
// the most the figure may grow (a target).
type Growth struct {
	Name         string
	Small, Large string // figure keys
	Max          float64
}

// Report is the outcome of a run.
type Report struct {
	Figures  []Figure
	Growth   []Growth
	Notes    []string // findings beyond the numbers (e.g. a list too big for the client)
	Options  Options
	Started  time.Time
	Duration time.Duration
	// LoadBefore and LoadAfter are the machine's 1-minute load average
	// around the run: figures from a busy machine read high.
	LoadBefore, LoadAfter float64
}

// Figure finds a figure by key.
func (r *Report) Figure(key string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Key == key {
			return f, true
		}
	}
	return Figure{}, false
}

func (r *Report) add(f Figure) {
	if t, ok := targets[f.Key]; ok {
		f.Target = &t
	}
	r.Figures = append(r.Figures, f)
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// targets are the issues' bounds for a 2-core machine with durable writes.
var targets = map[string]Target{
	"request_p50_ms":                   {AtMost: true, Limit: 0.5},
	"request_p99_ms":                   {AtMost: true, Limit: 2},
	"request_ops_per_s_c16":            {AtMost: false, Limit: 5000},
	"fleet_nodes_per_s_c16":            {AtMost: false, Limit: 3000},
	"approve_p50_ms_10k_paired":        {AtMost: true, Limit: 0.6},
	"write_kb_per_request_1k_paired":   {AtMost: true, Limit: 4},
	"write_kb_per_request_10k_paired":  {AtMost: true, Limit: 4},
	"write_kb_per_request_1k_pending":  {AtMost: true, Limit: 4},
	"write_kb_per_request_2k_pending":  {AtMost: true, Limit: 4},
	"write_kb_per_request_10k_pending": {AtMost: true, Limit: 4},
	"write_kb_per_approve_1k_paired":   {AtMost: true, Limit: 4},
	"write_kb_per_approve_10k_paired":  {AtMost: true, Limit: 4},
	"open_ms_10k_paired_10k_pending":   {AtMost: true, Limit: 300},
	"list_p50_ms_2k_pending":           {AtMost: true, Limit: 3},
	"list_p50_ms_10k_paired":           {AtMost: true, Limit: 10},
	"fanout_p99_ms_50":                 {AtMost: true, Limit: 5},
	"rss_idle_mb":                      {AtMost: true, Limit: 30},
	"rss_mb_10k_paired":                {AtMost: true, Limit: 80},
	"view_ms_10k_pending":              {AtMost: true, Limit: 2},
}

// sizeName renders a fleet size for figure keys: 1000 → "1k", 250 → "250".
func sizeName(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// Run measures every selected stage in turn. A failing stage ends the run
// with its error; the report holds what was measured before it.
func Run(ctx context.Context, opts Options) (*Report, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Report{Options: opts, Started: time.Now(), LoadBefore: loadAverage()}
	defer func() { r.Duration, r.LoadAfter = time.Since(r.Started), loadAverage() }()
	b := &runner{opts: opts, r: r}
	steps := []struct {
		name string
		run  func(context.Context) error
	}{
		{StageIdle, b.idleAndRequest(true, false)},
		{StageRequest, b.idleAndRequest(false, true)},
		{StageC16, b.concurrent},
		{StageFanout, b.fanout},
		{StagePaired, b.pairedScale},
		{StagePending, b.pendingScale},
		{StageOpen, b.openAfterCrash},
		{StageConsole, b.console},
		{StageConns, b.conns},
	}
	// idle and request share one fresh gateway when both run.
	if opts.runs(StageIdle) && opts.runs(StageRequest) {
		steps[0].run = b.idleAndRequest(true, true)
		steps = slices.Delete(steps, 1, 2)
	}
	for _, s := range steps {
		if !opts.runs(s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return r, err
		}
		b.progress("stage %s", s.name)
		if err := s.run(ctx); err != nil {
			return r, fmt.Errorf("stage %s: %w", s.name, err)
		}
	}
	r.Growth = growthRows(opts)
	return r, nil
}

// growthRows pairs each scaled figure at the small and large size.
func growthRows(o Options) []Growth {
	s, l := sizeName(o.Small), sizeName(o.Large)
	row := func(name, key string) Growth {
		return Growth{Name: name, Small: strings.ReplaceAll(key, "{n}", s), Large: strings.ReplaceAll(key, "{n}", l)}
	}
	flat := func(g Growth) Growth { g.Max = 1.2; return g }
	return []Growth{
		row("request p50, n paired (ms)", "request_p50_ms_{n}_paired"),
		row("request p99, n paired (ms)", "request_p99_ms_{n}_paired"),
		flat(row("request p50, n pending (ms)", "request_p50_ms_{n}_pending")),
		row("bytes written per request, n pending (KB)", "write_kb_per_request_{n}_pending"),
		row("bytes written per request, n paired (KB)", "write_kb_per_request_{n}_paired"),
		row("requests/s, 16 clients, n paired", "request_ops_per_s_c16_{n}_paired"),
		flat(row("approve p50, n paired (ms)", "approve_p50_ms_{n}_paired")),
		row("bytes written per approve, n paired (KB)", "write_kb_per_approve_{n}_paired"),
		row("list p50, n pending (ms)", "list_p50_ms_{n}_pending"),
		row("list p50, n paired (ms)", "list_p50_ms_{n}_paired"),
		row("list response, n pending (KB)", "list_kb_{n}_pending"),
		row("list response, n paired (KB)", "list_kb_{n}_paired"),
		row("operator connect p50, n paired (ms)", "connect_p50_ms_{n}_paired"),
		row("paired node connect p50, n paired (ms)", "node_connect_p50_ms_{n}_paired"),
		row("bytes written per node connect, n paired (KB)", "write_kb_per_node_connect_{n}_paired"),
		row("fan-out p99 to 50 consoles, n paired (ms)", "fanout_p99_ms_50_{n}_paired"),
		row("RSS, n paired (MB)", "rss_mb_{n}_paired"),
		row("RSS peak, n paired (MB)", "rss_peak_mb_{n}_paired"),
		row("console frame, n pending (ms)", "view_ms_{n}_pending"),
		row("console new-request event, n pending (ms)", "console_event_ms_{n}_pending"),
		row("console re-list, n pending (ms)", "console_relist_ms_{n}_pending"),
	}
}

// runner carries a run's options and report through its stages.
type runner struct {
	opts Options
	r    *Report
}

func (b *runner) progress(format string, args ...any) {
	fmt.Fprintf(b.opts.Progress, "bench: "+format+"\n", args...)
}

// stateDir makes a fresh state dir for one gateway.
func (b *runner) stateDir(name string) (string, func(), error) {
	dir, err := os.MkdirTemp(b.opts.TempDir, "pairdeck-bench-"+name+"-")
	if err != nil {
		return "", nil, fmt.Errorf("state dir: %w", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// benchTTL keeps every request of a run pending: no stage lasts this long.
const benchTTL = 30 * time.Minute

// benchMaxPending lifts the queue cap (1,024 by default) above every queue
// a run builds.
const benchMaxPending = 1 << 20

// withGateway seeds a state dir with paired and pending records, starts a
// child gateway on it, runs f and stops the child.
func (b *runner) withGateway(ctx context.Context, name string, paired, pending int, f func(*child) error) error {
	var seed func(dir string) error
	if paired+pending > 0 {
		seed = func(dir string) error { return seedState(ctx, dir, paired, pending, benchTTL) }
	}
	return b.withSeededGateway(ctx, name, fmt.Sprintf(" %d paired, %d pending", paired, pending), seed, f)
}

// withSeededGateway starts a child gateway with the default limits on a
// fresh state dir (seeded by seed, when set; what says with what, for the
// progress line), runs f and stops it.
func (b *runner) withSeededGateway(ctx context.Context, name, what string, seed func(dir string) error, f func(*child) error) error {
	dir, cleanup, err := b.stateDir(name)
	if err != nil {
		return err
	}
	defer cleanup()
	if seed != nil {
		start := time.Now()
		if err := seed(dir); err != nil {
			return err
		}
		b.progress("  seeded%s in %s", what, time.Since(start).Round(time.Millisecond))
	}
	c, err := startChild(ctx, b.opts.Gateway, serveOptions{
		stateDir: dir, token: "bench-" + nodeID(), maxPending: benchMaxPending, ttl: benchTTL,
	})
	if err != nil {
		return err
	}
	runErr := f(c)
	stopErr := c.stop()
	if runErr != nil {
		return runErr
	}
	return stopErr
}

// settle gives a fresh or busy gateway a moment (and a GC cycle of its
// own) before its memory is read.
func settle(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// meta describes the machine and run for the JSON output.
func (r *Report) meta() map[string]any {
	return map[string]any{
		"go":          runtime.Version(),
		"os":          runtime.GOOS + "/" + runtime.GOARCH,
		"cpus":        runtime.NumCPU(),
		"quick":       r.Options.Quick,
		"samples":     r.Options.Samples,
		"duration_s":  round(r.Duration.Seconds(), 1),
		"load_before": r.LoadBefore,
		"load_after":  r.LoadAfter,
		"durable":     true,
		"seeded_with": "the store package in-process (group commit), before the gateway starts",
	}
}

// loadAverage is the 1-minute load average (0 where /proc does not say).
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
