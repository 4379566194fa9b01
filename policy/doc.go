// Package policy is the gateway's pairing policy: the auto-approval rules
// an operator writes, and the access state the gateway keeps itself (the
// pairing switch and the block list). It matches requests against rules and
// reads and writes the two files; it has no network code.
//
// Both files live in <state>/pairdeck (dir 0700), are mode 0600, and are
// written atomically and durably (temp file in the same dir, fsync, rename,
// fsync the dir). A file that cannot be used is never replaced: loading it
// fails with a *CorruptError naming the file, the byte offset and how to
// recover, and the file is left as it is.
//
// policy.json holds the auto-approval rules, edited by `pairdeck policy …`
// (Edit, under policy.lock) or by hand, and re-read by a running gateway
// when it changes (Watcher):
//
//	{
//	  "version": 1,
//	  "autoApprove": {
//	    "enabled": false,
//	    "rules": [
//	      {"name": "lab", "cidrs": ["10.0.0.0/8"], "platforms": ["ios"]}
//	    ]
//	  }
//	}
//
// Auto-approval is off until enabled. Only requests a node makes for itself
// with silent:true are considered. Rules are tried in order and the first
// that matches decides; its name is recorded as the actor. A rule matches
// when every condition it states holds (loopback: the node's socket is on a
// loopback address; cidrs: the address is in one of them; nodeIds: the node
// id is one of them; platforms: the node's platform is one of them, case
// ignored) and, if the request declares an exec-class command
// (protocol.ExecCommands), the rule says allowExec. A rule without any
// condition is refused as too broad. Unknown members are refused too: a
// misspelt condition silently ignored would widen a rule.
//
// access.json is the gateway's own: the pairing switch and the blocked node
// ids with their refused-attempt counters (Access). Counters are written
// with the next change, or by Flush, not on every refused request.
package policy
