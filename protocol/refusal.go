package protocol

// RefusalDetails are the keys OpenClaw gateways put in a refusal's details
// beside details.code, which OpenClaw's clients (node hosts, CLIs) act on:
// which pairing request waits and why, whether to wait and retry, which
// protocol versions each side speaks, why a credential failed. pairdeck's
// gateway sends them where those clients need them (ErrorDetails embeds
// them); pairdeck's client reads them from OpenClaw gateways
// (OpenClawErrorDetails). All optional.
type RefusalDetails struct {
	// PAIRING_REQUIRED: the request that waits, and why.
	RequestID       string   `json:"requestId,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	DeviceID        string   `json:"deviceId,omitempty"`
	RequestedRole   string   `json:"requestedRole,omitempty"`
	RequestedScopes []string `json:"requestedScopes,omitempty"`
	ApprovedRoles   []string `json:"approvedRoles,omitempty"`
	ApprovedScopes  []string `json:"approvedScopes,omitempty"`
	RemediationHint string   `json:"remediationHint,omitempty"`
	// RecommendedNextStep is e.g. "wait_then_retry",
	// "retry_with_device_token", "update_auth_configuration".
	RecommendedNextStep string `json:"recommendedNextStep,omitempty"`
	Retryable           bool   `json:"retryable,omitempty"`
	// PauseReconnect false (with wait_then_retry) keeps an OpenClaw node
	// host retrying; a PAIRING_REQUIRED without either pauses it.
	PauseReconnect *bool `json:"pauseReconnect,omitempty"`
	RetryAfterMs   int64 `json:"retryAfterMs,omitempty"`
	// PROTOCOL_MISMATCH.
	ExpectedProtocol     int `json:"expectedProtocol,omitempty"`
	ClientMinProtocol    int `json:"clientMinProtocol,omitempty"`
	ClientMaxProtocol    int `json:"clientMaxProtocol,omitempty"`
	MinimumProbeProtocol int `json:"minimumProbeProtocol,omitempty"`
	// AUTH_*.
	AuthReason              string `json:"authReason,omitempty"`
	CanRetryWithDeviceToken bool   `json:"canRetryWithDeviceToken,omitempty"`
	// MISSING_SCOPE (9.6 FORBIDDEN).
	MissingScope string `json:"missingScope,omitempty"`
}

// Next steps OpenClaw's clients act on (RefusalDetails.RecommendedNextStep).
const (
	NextStepWaitThenRetry           = "wait_then_retry"
	NextStepRetryWithDeviceToken    = "retry_with_device_token"
	NextStepUpdateAuthConfig        = "update_auth_configuration"
	NextStepReviewAuthConfig        = "review_auth_configuration"
	DetailAuthBootstrapTokenInvalid = "AUTH_BOOTSTRAP_TOKEN_INVALID"
)

// ProtocolMismatch is the refusal of a connect whose offered range holds
// no version this gateway speaks, shaped as OpenClaw gateways send it
// (message "protocol mismatch", details.code PROTOCOL_MISMATCH): their
// clients read expectedProtocol (the newest version spoken) and
// minimumProbeProtocol (the oldest), and a 2026.9 node host falls back to
// protocol 3 only on expectedProtocol 3.
func ProtocolMismatch(clientMin, clientMax int) *Error {
	return &Error{Code: CodeInvalidRequest, Message: "protocol mismatch", Details: &ErrorDetails{
		Code: DetailProtocolMismatch,
		RefusalDetails: &RefusalDetails{
			ExpectedProtocol: Version, MinimumProbeProtocol: OldestVersion,
			ClientMinProtocol: clientMin, ClientMaxProtocol: clientMax,
		},
	}}
}
