package protocol

// What OpenClaw's node hosts (`openclaw node run`) and CLIs call besides
// node pairing, and what pairdeck's gateway answers.

// Method names.
const (
	// MethodNodeDescribe is one node as node.list shows it (operators,
	// operator.read): OpenClaw's CLIs call it for `nodes describe` and
	// after `nodes approve`.
	MethodNodeDescribe = "node.describe"

	// What a paired OpenClaw 2026.9 node host reports after hello-ok.
	// pairdeck keeps none of it and answers so the host is content:
	// an unanswered call is retried or logged as a failure on the host.
	MethodNodeEvent           = "node.event"
	MethodNodeRunnerInventory = "node.runnerInventory.update"
	MethodNodeSkills          = "node.skills.update"
	MethodNodePluginTools     = "node.pluginTools.update"
)

// NodeHostMethods are the node-only methods above.
var NodeHostMethods = []string{MethodNodeEvent, MethodNodeRunnerInventory, MethodNodeSkills, MethodNodePluginTools}

// NodeDescribeResult is node.describe's result: the node's node.list entry
// and when it was taken, as OpenClaw gateways answer it.
type NodeDescribeResult struct {
	TS int64 `json:"ts"`
	NodeInfo
}

// NodeEventResult answers node.event: pairdeck takes the event and does
// nothing with it (Handled false).
type NodeEventResult struct {
	OK      bool   `json:"ok"`
	Event   string `json:"event"`
	Handled bool   `json:"handled"`
}

// NodeUpdateResult answers the node host's inventory updates: the node,
// and the empty lists OpenClaw's gateway echoes (pairdeck serves no
// skills or tools).
type NodeUpdateResult struct {
	NodeID string    `json:"nodeId"`
	Skills *[]string `json:"skills,omitempty"`
	Tools  *[]string `json:"tools,omitempty"`
}

// How a connection was let in, as hello-ok's auth.method says it.
const (
	AuthMethodToken       = "token"        // the gateway's shared token
	AuthMethodDeviceToken = "device-token" // a node's token, issued on approval
	AuthMethodNone        = "none"         // an unpaired node: it may only ask to pair
	// AuthMethodApproved: a node without a token whose approval came while
	// it was away; hello-ok hands it the token (auth.deviceToken).
	AuthMethodApproved = "approved"
	// AuthMethodBootstrapToken: a node let in by the setup code it
	// presented as auth.bootstrapToken (OpenClaw 2026.8+ `node run --pair`).
	AuthMethodBootstrapToken = "bootstrap-token"
)

// ReasonUnknownCode refuses pairdeck.codes.revoke of a code id the
// gateway does not have.
const ReasonUnknownCode = "UNKNOWN_CODE"
