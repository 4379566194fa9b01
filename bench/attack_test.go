package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/bench"
)

// The conns stage at a small scale: every figure is reported, and every
// big frame is refused by the gateway (a node may send 16 KiB), whatever
// the memory figures are on this machine.
func TestConnsStageReportsEveryFigure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, bench.Options{
		Gateway: selfLauncher(t),
		Samples: 0.02,
		Only:    []string{bench.StageConns},
		TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"handshaking", "unpaired", "waiting", "paired", "operators"} {
		for _, key := range []string{"rss_mb_conns_" + kind, "rss_peak_mb_conns_" + kind, "kb_per_conn_" + kind} {
			if f, ok := rep.Figure(key); !ok || f.Samples != 100 {
				t.Errorf("figure %s: %+v (found %v), want one over 100 sockets", key, f, ok)
			}
		}
	}
	for _, key := range []string{"rss_mb_queue_only", "rss_peak_mb_big_frames", "rss_mb_after_big_frames"} {
		if f, ok := rep.Figure(key); !ok || f.Value <= 0 {
			t.Errorf("figure %s: %+v (found %v)", key, f, ok)
		}
	}
	if f, ok := rep.Figure("big_frames_refused"); !ok || f.Value != 20 || f.Samples != 20 {
		t.Errorf("big frames refused: %+v (found %v), want all 20", f, ok)
	}
}
