package store

// resolvedMemory is how many resolved request ids are remembered so that a
// late approve or reject gets "already resolved" rather than "unknown". It
// is memory only: after a restart old ids are unknown.
const resolvedMemory = 4096

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
