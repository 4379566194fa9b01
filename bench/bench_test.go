package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/bench"
	"github.com/pairdeck/pairdeck/cli"
)

// childEnv marks this test binary, re-run by the harness, as the gateway:
// it then runs the real command line (`serve …`) instead of the tests, so
// the harness is tested against the same code path `pairdeck bench` uses.
const childEnv = "PAIRDECK_BENCH_TEST_GATEWAY"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(cli.Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func selfLauncher(t *testing.T) bench.Launcher {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A race-enabled binary sleeps a second at exit (GORACE
	// atexit_sleep_ms); the test stops many gateways.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return bench.Launcher{Path: self, Args: []string{"serve"}, Env: []string{childEnv + "=1", "GORACE=" + gorace}}
}

// A quick run at small sizes goes through every stage and reports every
// figure the issue asks for. No timing is asserted: figures are the
// harness's output, targets live in its report.
func TestQuickRunReportsEveryFigure(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := bench.Run(ctx, bench.Options{
		Gateway: selfLauncher(t),
		Samples: 0.02,
		Small:   100,
		Large:   400,
		Queue:   200,
		TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		"request_p50_ms", "request_p99_ms", "request_ops_per_s_c16",
		"approve_p50_ms_100_paired", "list_p50_ms_200_pending", "list_p50_ms_400_paired",
		"fanout_p99_ms_50", "rss_idle_mb", "rss_mb_400_paired", "view_ms_400_pending",
		"open_ms_400_paired_400_pending", "checkpoint_kb_400_paired_400_pending", "open_store_ms_400_paired_400_pending", "start_ms_empty",
	} {
		f, ok := rep.Figure(key)
		if !ok {
			t.Errorf("no figure %s", key)
			continue
		}
		if f.Value <= 0 || f.Samples <= 0 {
			t.Errorf("%s = %v over %d samples", key, f.Value, f.Samples)
		}
	}

	var out bytes.Buffer
	if err := rep.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(out.Bytes(), &obj); err != nil {
		t.Fatalf("--json output is not one JSON object: %v\n%s", err, out.String())
	}
	for _, key := range []string{"request_p50_ms", "targets", "growth", "run"} {
		if _, ok := obj[key]; !ok {
			t.Errorf("JSON has no %q", key)
		}
	}
	out.Reset()
	if err := rep.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "GROWTH") {
		t.Errorf("table has no growth section:\n%s", out.String())
	}
}

func TestUnknownStageIsRefused(t *testing.T) {
	_, err := bench.Run(context.Background(), bench.Options{Only: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), "unknown stage") {
		t.Fatalf("err = %v", err)
	}
}
