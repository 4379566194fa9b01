// Package store is pairdeck's pairing store: the single source of truth
// for pending requests and paired nodes, kept in StateDir/nodes exactly as
// protocol.md §6 describes (pending.json keyed by requestId, paired.json
// keyed by nodeId, two-space indent, mode 0600, dir 0700) plus an audit
// log, audit.jsonl. It has no network code; the gateway and the CLI's
// offline mode call it.
//
// Files in StateDir/nodes:
//
//	pending.json, paired.json  checkpoints: complete after a clean shutdown,
//	                           otherwise as of the last checkpoint
//	codes.json                 setup codes (codes.go, codesfile.go): their
//	                           checkpoint, secrets as SHA-256 only
//	journal.<n>.wal            the write-ahead journal (journal.go): every
//	                           change since the last checkpoint
//	audit.jsonl                one line per decision or change (audit.go)
//	audit.<n>.jsonl            rotated audit logs, n counting up
//	.lock                      held by the store's process; its pid
//
// Durability. A mutating call returns only when its change and its audit
// lines are in the journal, on disk. Changes go through one committer
// goroutine that batches whatever is queued (group commit, commit.go) and
// appends one record per batch, holding the new state of every key the
// batch touched and the batch's audit lines, with one fsync (fdatasync):
// that append is the commit point for both tables at once. Then the
// audit lines go to audit.jsonl, and the callers are answered. If the
// append fails, the journal is cut back, memory is rebuilt from disk, and
// every call of the batch that changed something gets an error wrapping
// ErrWrite. Reads see durable state only, with one exception: a node's
// lastConnectedAtMs (MarkConnected) is not a decision and goes into the
// journal with the next commit, within 10 s, or at Close, rather than
// with a commit of its own; a crash can lose the last seconds of it.
//
// Checkpoints (checkpoint.go). pending.json and paired.json are rewritten
// in the background, each only if it changed, after 4096 journal records,
// 8 MiB of journal or 5 minutes, and at Close (temp file, fsync, rename,
// fsync of the dir); then the audit log is fsynced and the journal
// segments the checkpoint covers are removed. Open loads the checkpoints
// and replays the journal (replay.go), so after a crash the state is
// every acknowledged change, and the two files are current again soon
// after a store has opened the dir (its first checkpoint starts two
// seconds after Open).
//
// The audit log records only what committed: a batch's lines are written
// after its record is durable, each carrying the commit's "seq"; Open
// writes back the lines a crash kept out of the file and cuts a torn last
// line. audit.jsonl is renamed to audit.<n>.jsonl when a checkpoint starts
// and it holds 16 MiB or more; the 4 newest rotations are kept. History
// and ReadHistory read across them (history.go).
//
// Records keep their encoded JSON, so a checkpoint is a concatenation and
// a journal record carries the text the file will hold.
// Fields of a record this version does not know (written by another
// gateway) are kept and written back after the known ones. A token is
// kept in the form its record has (tokenstorage.go): the token storage in
// force (hash, or openclaw for a dir OpenClaw shares) decides the form of
// tokens minted and records written from now on; a plaintext "token"
// verifies either way, and only ConvertTokens changes a stored token's
// form.
//
// Setup codes (codes.go, redeem.go). A request carrying a code the
// request fits is approved in the op that queues it, with the code's use
// counted in the same journal record.
//
// Expiry. A request is expired when now >= ts+TTL, by the injected clock;
// reads never show one. Each batch first removes the expired requests
// (durably, audited), and ExpireDue hands each removed request to the
// gateway exactly once, however it was removed (expiry.go).
//
// Stale ids. Up to 4096 recently resolved request ids are remembered in
// memory with how they ended, so a late approve or reject gets a precise
// *DecisionError. Open recalls them from the tail of the audit log.
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
// Locking. Open takes an exclusive lock (gofrs/flock, through
// internal/statefile) on nodes/.lock for the store's lifetime and writes its pid there (through the locked file, never
// through a link); a second Open, in this process or
// another, fails at once with a *LockedError naming that pid.
//
// Reading only (Options.ReadOnly, readonly.go). A command that only reads
// opens the store without the lock and creates, writes and chmods nothing;
// it reads again if a checkpoint replaced the files while it read, and
// every change asked of it fails with ErrReadOnly.
package store
