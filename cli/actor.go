package cli

import (
	"os"
	"os/user"
	"runtime"
	"strings"
	"unicode"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// Who acts. pairdeck's console and CLI tell a gateway who they are in
// connect, within the fields OpenClaw gateways accept: client.id "cli"
// and mode "cli" (ids those gateways know), and client.displayName
// "pairdeck <kind> <user@host>" (protocol.ClientName), which a pairdeck
// gateway reads into the connection's actor (protocol.ConnectActor). Where
// no socket is involved — an offline command, the embedded console — this
// process derives its actor from the very ClientInfo it would send, so the
// same person at the same terminal is one actor in the audit log, the
// events and every view, with a gateway running or not.

// clientInfo is connect's client for pairdeck's console or CLI (kind
// protocol.ActorConsole or protocol.ActorCLI).
func clientInfo(kind string) protocol.ClientInfo {
	return protocol.ClientInfo{ID: "cli", DisplayName: protocol.ClientName(kind, localUser()), Version: Version, Platform: runtime.GOOS, Mode: "cli"}
}

// selfActor is the actor this process acts as without a socket, derived as
// a gateway derives a connection's: its device is the state dir's operator
// identity, when there is one (it is never created here).
func selfActor(kind, stateDir string) protocol.Actor {
	// An identity that cannot be read leaves the actor without a device.
	id, _ := client.LoadIdentity(client.IdentityPath(stateDir))
	return connectedActor(kind, id)
}

// connectedActor is the actor a gateway derives for a connection made with
// clientInfo(kind) and id: what a console compares events against to know
// its own (the gateway adds only the address, which the form leaves out).
func connectedActor(kind string, id *client.Identity) protocol.Actor {
	deviceID := ""
	if id != nil {
		deviceID = id.DeviceID
	}
	return protocol.ConnectActor(clientInfo(kind), protocol.RoleOperator, deviceID, "")
}

// maxUserLen bounds user@host: a connect's displayName is a name (at most
// 128 characters) and holds "pairdeck console " too.
const maxUserLen = 96

// localUser is who runs this process as user@host (the host's first label),
// in characters every gateway accepts in a name: anything else, and spaces,
// become "_".
func localUser() string {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = os.Getenv("USER")
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		host, _, _ = strings.Cut(host, ".")
		if name == "" {
			name = "?"
		}
		name += "@" + host
	}
	clean := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsGraphic(r) || r == '\u200c' || r == '\u200d' || protocol.CheckText(string(r)) != nil {
			return '_'
		}
		return r
	}, name)
	if len(clean) > maxUserLen {
		clean = strings.ToValidUTF8(clean[:maxUserLen], "")
	}
	return clean
}
