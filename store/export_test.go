package store

// Seams for the external tests (package store_test), which also use the
// gateway: the crash test makes checkpoints and audit rotations frequent
// and kills its child at chosen steps.

// SetCrashTuning makes checkpoints and audit rotations frequent, and keeps
// every rotation, for a whole test process.
func SetCrashTuning(records int, auditBytes int64) {
	checkpointRecords = records
	auditRotateBytes = auditBytes
	auditKeep = 1 << 20
}

// SetFaultHook installs the I/O step seam (called with the step's name
// before each step).
func SetFaultHook(s *Store, f func(stage string) error) {
	s.faultHook.Store(&f)
}

// SegmentNames are the journal segments in dir, oldest first.
func SegmentNames(dir string) ([]string, error) {
	ns, err := listSegments(dir)
	var out []string
	for _, n := range ns {
		out = append(out, segmentName(n))
	}
	return out, err
}

// JournalHeaderLen is the size of an empty segment.
const JournalHeaderLen = journalHeaderLen
