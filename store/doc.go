// Package store is pairdeck's pairing store: the single source of truth
// for pending requests and paired nodes, kept in StateDir/nodes exactly as
// protocol.md §6 describes (pending.json keyed by requestId, paired.json
// keyed by nodeId, two-space indent, mode 0600, dir 0700) plus an audit
// log, audit.jsonl. It has no network code; the gateway and the CLI's
// offline mode call it.
//
// Durability. A mutating call returns only when its change and its audit
// line are on disk. Changes go through one committer goroutine that batches
// whatever is queued (group commit, commit.go): the batch's audit lines are
// appended and its changed files written to fsynced temp files in
// parallel, then the temp files are renamed into place and the dir is
// fsynced. A file that did not change is not rewritten. If any step fails,
// the files are put back, memory is rebuilt from the last durable bytes,
// and every call of the batch that changed something gets an error
// wrapping ErrWrite. Reads see durable state only, with one exception: a
// node's lastConnectedAtMs (MarkConnected) is not a decision and is
// written with the next write of paired.json, within 10 s, or at Close,
// rather than with a rewrite of its own; a crash can lose the last seconds
// of it.
//
// Records keep their encoded JSON, so a file is rebuilt by concatenation.
// Fields of a record this version does not know (written by another
// gateway) are kept and written back after the known ones. A legacy
// plaintext "token" in paired.json still verifies and is replaced by its
// SHA-256 the next time paired.json is written.
//
// Expiry. A request is expired when now >= ts+TTL, by the injected clock;
// reads never show one. Each batch first removes the expired requests
// (durably, audited), and ExpireDue hands each removed request to the
// gateway exactly once, however it was removed (expiry.go).
//
// Stale ids. Up to 4096 recently resolved request ids are remembered in
// memory with how they ended, so a late approve or reject gets a precise
// *DecisionError. They are forgotten on restart.
//
// A hostile state dir. Every file the store reads or writes is opened
// through internal/statefile: without following a symbolic link, only if
// it is a regular file (a FIFO is refused at once, never waited on), and
// read within a bound (maxStateFileBytes, 128 MiB). StateDir and nodes/
// must not be writable by group or others (Open refuses them with the
// chmod that fixes it); nodes/ must be a real directory and is tightened
// to 0700, the files to 0600, with a log line (Options.Logger). Records
// loaded from pending.json and paired.json get the wire's checks
// (protocol.CheckNodeID, NodeMeta.Clean): one that fails is refused by
// file, key and field, and the file is left as it is. A pending.json with
// more live requests than Options.MaxPending is refused
// (ErrTooManyPending), saying which --max-pending would load it.
//
// Locking. Open takes an exclusive flock on nodes/.lock for the store's
// lifetime and writes its pid there (through the locked file, never
// through a link); a second Open, in this process or
// another, fails at once with a *LockedError naming that pid.
package store
