package store

// resolvedMemory is how many resolved request ids are remembered so that a
// late approve or reject gets "already resolved" rather than "unknown". At
// Open they are recalled from the tail of the audit log, so the answer
// survives a restart (and the CLI's one-shot offline processes).
const resolvedMemory = 4096

// recallWindow is how much of the audit log's tail Open reads to recall
// decisions: enough for resolvedMemory decisions of typical size, bounded
// so that a years-old log does not slow start-up.
const recallWindow = 2 << 20

// Decisions a request can end with, as remembered for stale-id errors.
const (
	decisionApproved = "approved"
	decisionRejected = "rejected"
	decisionExpired  = "expired"
	decisionRemoved  = "removed" // the node was removed while it waited
)

type resolution struct {
	nodeID   string
	decision string
}

// resolvedIDs is a bounded map: the oldest id is forgotten first.
type resolvedIDs struct {
	byID map[string]resolution
	ring []string
	next int
	max  int
}

func newResolvedIDs(max int) *resolvedIDs {
	return &resolvedIDs{byID: make(map[string]resolution), max: max}
}

func (r *resolvedIDs) add(id string, res resolution) {
	if _, ok := r.byID[id]; !ok {
		if len(r.ring) < r.max {
			r.ring = append(r.ring, id)
		} else {
			delete(r.byID, r.ring[r.next])
			r.ring[r.next] = id
			r.next = (r.next + 1) % r.max
		}
	}
	r.byID[id] = res
}

func (r *resolvedIDs) get(id string) (resolution, bool) {
	res, ok := r.byID[id]
	return res, ok
}
