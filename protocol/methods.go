package protocol

import "encoding/json"

// Method names.
const (
	MethodConnect     = "connect"
	MethodPairRequest = "node.pair.request"
	MethodPairList    = "node.pair.list"
	MethodPairApprove = "node.pair.approve"
	MethodPairReject  = "node.pair.reject"
	MethodPairVerify  = "node.pair.verify"
	MethodPairRemove  = "node.pair.remove"
	MethodNodeRename  = "node.rename"
	MethodNodeList    = "node.list"
)

// Methods lists every method pairdeck's gateway serves (hello-ok features).
var Methods = []string{
	MethodPairRequest, MethodPairList, MethodPairApprove, MethodPairReject,
	MethodPairVerify, MethodPairRemove, MethodNodeRename, MethodNodeList,
	MethodPairingGet, MethodPairingSet, MethodBlockAdd, MethodBlockRemove,
	MethodBlockList, MethodPairAutoApprove, MethodHistoryList,
	MethodNodeDescribe, MethodNodeEvent, MethodNodeRunnerInventory, MethodNodeSkills, MethodNodePluginTools,
	MethodCodesCreate, MethodCodesList, MethodCodesRevoke,
}

// Roles.
const (
	RoleOperator = "operator"
	RoleNode     = "node"
)

// ClientInfo describes the connecting program.
type ClientInfo struct {
	ID              string `json:"id"`
	DisplayName     string `json:"displayName,omitempty"`
	Version         string `json:"version"`
	Platform        string `json:"platform"`
	DeviceFamily    string `json:"deviceFamily,omitempty"`
	ModelIdentifier string `json:"modelIdentifier,omitempty"`
	Mode            string `json:"mode"`
	InstanceID      string `json:"instanceId,omitempty"`
	// Sent by OpenClaw 2026.9 clients: their build, and the IANA time
	// zone they report.
	BuildID  string `json:"buildId,omitempty"`
	TimeZone string `json:"timeZone,omitempty"`
}

// DeviceAuth is the signed Ed25519 device identity in connect params.
type DeviceAuth struct {
	ID        string `json:"id"`
	PublicKey string `json:"publicKey"`
	Signature string `json:"signature"`
	SignedAt  int64  `json:"signedAt"`
	Nonce     string `json:"nonce"`
}

// ConnectAuth carries the client's credential: the shared operator token,
// or a node's token (pairdeck's node token in Token; OpenClaw node hosts
// send the device token they were issued in DeviceToken, 2026.4 hosts in
// both). BootstrapToken is a setup code (OpenClaw 2026.8+ `--pair`);
// Password is OpenClaw's password auth, which pairdeck does not have.
type ConnectAuth struct {
	Token          string `json:"token,omitempty"`
	DeviceToken    string `json:"deviceToken,omitempty"`
	BootstrapToken string `json:"bootstrapToken,omitempty"`
	Password       string `json:"password,omitempty"`
	// Tokens of OpenClaw 2026.9's own runtimes; accepted, never used.
	ApprovalRuntimeToken      string `json:"approvalRuntimeToken,omitempty"`
	AgentRuntimeIdentityToken string `json:"agentRuntimeIdentityToken,omitempty"`
}

// ConnectParams are the params of the first frame, connect.
type ConnectParams struct {
	MinProtocol int          `json:"minProtocol"`
	MaxProtocol int          `json:"maxProtocol"`
	Client      ClientInfo   `json:"client"`
	Role        string       `json:"role,omitempty"`
	Scopes      []string     `json:"scopes,omitempty"`
	Caps        []string     `json:"caps,omitempty"`
	Commands    []string     `json:"commands,omitempty"`
	Device      *DeviceAuth  `json:"device,omitempty"`
	Auth        *ConnectAuth `json:"auth,omitempty"`
	Locale      string       `json:"locale,omitempty"`
	UserAgent   string       `json:"userAgent,omitempty"`
	// Sent by OpenClaw node hosts. permissions is what the node declares
	// (an object of booleans) and goes into the request filed for it;
	// the rest is accepted and ignored (its text checked like all else).
	Permissions json.RawMessage `json:"permissions,omitempty"`
	PathEnv     string          `json:"pathEnv,omitempty"`
	ComputerUse json.RawMessage `json:"computerUse,omitempty"`
	WorkerRuns  json.RawMessage `json:"workerRuns,omitempty"`
	// ModelCatalog is OpenClaw 2026.9's initial model catalog scope.
	ModelCatalog json.RawMessage `json:"modelCatalog,omitempty"`
}

// HelloOK is the payload of a successful connect.
type HelloOK struct {
	Type     string         `json:"type"` // "hello-ok"
	Protocol int            `json:"protocol"`
	Server   ServerInfo     `json:"server"`
	Features Features       `json:"features"`
	Snapshot map[string]any `json:"snapshot"`
	Auth     *HelloAuth     `json:"auth,omitempty"`
	Policy   Policy         `json:"policy"`
}

// ServerInfo names the gateway and this connection.
type ServerInfo struct {
	Version string `json:"version"`
	ConnID  string `json:"connId"`
}

// Features lists what the gateway serves.
type Features struct {
	Methods []string `json:"methods"`
	Events  []string `json:"events"`
}

// HelloAuth tells the client the role and scopes it was granted.
// DeviceToken (OpenClaw) is the token this device may present instead of
// the shared secret for this role: a secret, never logged.
type HelloAuth struct {
	Role   string   `json:"role"`
	Scopes []string `json:"scopes"`

	DeviceToken string `json:"deviceToken,omitempty"`
	IssuedAtMs  int64  `json:"issuedAtMs,omitempty"`
	// Method is how the gateway authenticated this connection ("token",
	// "password", "device-token", ...; OpenClaw 2026.9+).
	Method string `json:"method,omitempty"`
}

// Policy states the limits that apply after the handshake.
type Policy struct {
	MaxPayload       int64 `json:"maxPayload"`
	MaxBufferedBytes int64 `json:"maxBufferedBytes"`
	TickIntervalMs   int64 `json:"tickIntervalMs"`
}

// PairRequestParams are node.pair.request's params. Silent is a pointer so
// an omitted hint is told apart from false when a request is refreshed.
type PairRequestParams struct {
	NodeID string `json:"nodeId,omitempty"`
	NodeMeta
	Silent *bool `json:"silent,omitempty"`
	// Code is a setup code (pairdeck; a node for itself only): a secret,
	// never stored or logged, only hashed and compared. A request it fits
	// is approved at once; otherwise it waits and PairRequestResult.Code
	// says why.
	Code string `json:"code,omitempty"`
	// Permissions are what an OpenClaw 2026.7+ node declares
	// (Permissions.Check bounds them); kept on the request and carried
	// through its approval.
	Permissions Permissions `json:"permissions,omitempty"`
}

// PairRequestResult is node.pair.request's result. It never has a token.
type PairRequestResult struct {
	Status  string         `json:"status"` // "pending"
	Request PendingRequest `json:"request"`
	Created bool           `json:"created"`
	// Code says why the request's setup code approved nothing (pairdeck);
	// absent when the request carried none or the code approved it (then
	// Status is "approved" and node.pair.resolved brings the token).
	Code *CodeRefusal `json:"code,omitempty"`
}

// PairListResult is node.pair.list's result: pending newest first, paired by
// newest approval first, no secrets.
type PairListResult struct {
	Pending []PendingRequest `json:"pending"`
	Paired  []PairedNode     `json:"paired"`
}

// RequestIDParams are the params of approve and reject. Reason is the
// operator's optional word on the decision (pairdeck; CheckReason), kept in
// the audit log and carried by node.pair.resolved.
type RequestIDParams struct {
	RequestID string `json:"requestId"`
	Reason    string `json:"reason,omitempty"`
}

// ApproveResult is node.pair.approve's result: the only place a token shows.
type ApproveResult struct {
	RequestID string     `json:"requestId"`
	Node      PairedNode `json:"node"`
	// Delivered says whether the waiting node received its token over its
	// socket (pairdeck), so an operator knows whether to pass it on by hand.
	Delivered bool `json:"delivered,omitempty"`

	// Set by the client against OpenClaw gateways: Kind is the request's
	// kind (KindDevice: Device holds the approved device, and Node its
	// name and id). NoToken says why Node.Token is empty when it is
	// (NoToken*): there is then nothing to hand over.
	Kind    string        `json:"kind,omitempty"`
	NoToken string        `json:"noToken,omitempty"`
	Device  *PairedDevice `json:"device,omitempty"`
}

// Why an approval issued no node token.
const (
	// NoTokenNodeUsesDeviceToken: the gateway pairs nodes through device
	// pairing; the node keeps signing in with the device token it was
	// given when it connected (OpenClaw 2026.8+ node.pair.approve).
	NoTokenNodeUsesDeviceToken = "node-uses-device-token"
	// NoTokenDeviceApproval: a device approval; the gateway hands the
	// device its device token itself when it next connects.
	NoTokenDeviceApproval = "device-gets-token-at-connect"
)

// RejectResult is node.pair.reject's result. Kind is set by the client
// against OpenClaw gateways (for KindDevice, NodeID is the device id).
type RejectResult struct {
	RequestID string `json:"requestId"`
	NodeID    string `json:"nodeId"`
	Kind      string `json:"kind,omitempty"`
}

// VerifyParams are node.pair.verify's params.
type VerifyParams struct {
	NodeID string `json:"nodeId"`
	Token  string `json:"token"`
}

// VerifyResult is node.pair.verify's result; Node never carries the token.
type VerifyResult struct {
	OK   bool        `json:"ok"`
	Node *PairedNode `json:"node,omitempty"`
}

// NodeIDParams are node.pair.remove's params.
type NodeIDParams struct {
	NodeID string `json:"nodeId"`
}

// RemoveResult is node.pair.remove's result.
type RemoveResult struct {
	NodeID string `json:"nodeId"`
}

// RenameParams are node.rename's params.
type RenameParams struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName"`
}

// RenameResult is node.rename's result.
type RenameResult struct {
	NodeID      string `json:"nodeId"`
	DisplayName string `json:"displayName"`
}

// NodeListResult is node.list's result, connected nodes first.
type NodeListResult struct {
	TS    int64      `json:"ts"`
	Nodes []NodeInfo `json:"nodes"`
}
