package bench

import (
	"slices"
	"time"
)

// samples collects per-call wall times.
type samples []time.Duration

// quantile returns the q-quantile (0 ≤ q ≤ 1) by the nearest-rank method
// on a sorted copy: p50 of 2,000 samples is the 1,000th fastest.
func (s samples) quantile(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func (s samples) p50() float64 { return ms(s.quantile(0.50)) }
func (s samples) p99() float64 { return ms(s.quantile(0.99)) }

// mean is the average, for figures where every sample is the same work.
func (s samples) mean() time.Duration {
	if len(s) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return sum / time.Duration(len(s))
}

// ms is a duration in milliseconds with microsecond resolution.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
