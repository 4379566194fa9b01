package cli

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
	"github.com/pairdeck/pairdeck/tui"
)

// demoNode is one simulated device.
type demoNode struct {
	name, platform, family, model string
	caps, commands                []string
	silent                        bool
}

var demoFleet = []demoNode{
	{name: "Living Room iPad", platform: "ios", family: "iPad", model: "iPad13,8", caps: []string{"canvas", "camera"}},
	{name: "Kitchen Display", platform: "android", family: "tablet", model: "SM-X710", caps: []string{"canvas"}},
	{name: "build-box-07", platform: "linux", family: "server", caps: []string{"system"}, commands: []string{"system.run", "system.which"}},
	{name: "Pixel 9", platform: "android", family: "phone", model: "tokay", caps: []string{"camera", "location"}, commands: []string{"location.get"}},
	{name: "Garage Pi", platform: "linux", family: "raspberrypi", model: "Pi 5", caps: []string{"gpio"}, silent: true},
	{name: "Office Mac mini", platform: "macos", family: "Mac", model: "Mac16,10", caps: []string{"screen", "system"}, commands: []string{"system.notify"}},
	{name: "Hallway Echo", platform: "linux", family: "speaker", caps: []string{"audio"}},
	{name: "ci-runner-3", platform: "linux", family: "server", caps: []string{"system"}, commands: []string{"system.run"}},
}

func newDemoCmd(g *globals) *cobra.Command {
	f := &consoleFlags{}
	var nodes int
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Console with a throwaway gateway and simulated nodes asking to pair",
		Long: `Start a gateway on a free loopback port with a temporary state dir, and
simulated nodes — real node clients over WebSockets — that ask to pair at
intervals. Approved nodes stay connected, so the Paired view shows presence.
Everything is removed on exit unless --state-dir is given.`,
		Example: `  pairdeck demo
  pairdeck demo --nodes 8 --every 3s --ttl 45s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkTheme(f.theme); err != nil {
				return err
			}
			if err := checkCount("nodes", nodes, 0, len(demoFleet)); err != nil {
				return err
			}
			if err := checkDuration("every", every, 100*time.Millisecond, time.Hour); err != nil {
				return err
			}
			if err := f.gw.check(); err != nil {
				return err
			}
			if err := checkTerminal(os.Stdout, os.Getenv("TERM")); err != nil {
				return err
			}
			stateDir, err := expandHome(g.stateDir)
			if err != nil {
				return err
			}
			if stateDir == "" {
				tmp, err := os.MkdirTemp("", "pairdeck-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				stateDir = tmp
			}
			logOut, err := logFile(stateDir, "demo")
			if err != nil {
				return err
			}
			defer logOut.Close()
			logger := slog.New(protocol.PrintableHandler(slog.NewTextHandler(logOut, nil)))

			gw, err := startGateway(stateDir, &f.gw, logger)
			if err != nil {
				return err
			}
			defer func() {
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				gw.Stop(sctx, logger)
			}()
			ctx, cancel := context.WithCancel(cmd.Context())
			var wg sync.WaitGroup
			defer func() { cancel(); wg.Wait() }()
			for i := range min(nodes, len(demoFleet)) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					delay := time.Duration(i)*every + time.Duration(rand.Int64N(int64(every/2)+1))
					runDemoNode(ctx, logger, gw.URL, filepath.Join(stateDir, "demo-nodes", fmt.Sprint(i)), demoFleet[i], delay)
				}()
			}
			self := selfActor(protocol.ActorConsole, stateDir)
			local := gw.Gateway.Local(self)
			defer local.Close()
			_, err = tui.Run(ctx, local, tui.Options{Theme: f.theme, Bell: f.bell, Logger: logger, Actor: self,
				Endpoint: "demo · " + gw.URL, Demo: nodes > 0,
				TryCommand: "pairdeck node pair --url " + gw.URL + " --name test"})
			return err
		},
	}
	// Only the flags the demo uses, with the defaults it uses: its gateway
	// is throwaway, so its token, cap, switch and hooks are not offered.
	fl := cmd.Flags()
	fl.StringVar(&f.theme, "theme", "auto", "colours for a dark or light terminal: auto, dark or light")
	fl.BoolVar(&f.bell, "bell", false, "ring the terminal bell when a node asks to pair")
	fl.DurationVar(&f.gw.ttl, "ttl", 90*time.Second, "how long a pending request waits for a decision")
	fl.StringVar(&f.gw.listen, "listen", "127.0.0.1:0", "address the demo gateway listens on (port 0: a free port)")
	fl.IntVar(&nodes, "nodes", 6, fmt.Sprintf("how many simulated nodes (0 to %d)", len(demoFleet)))
	fl.DurationVar(&every, "every", 4*time.Second, "interval between nodes' first requests")
	fl.StringVar(&g.stateDir, "state-dir", "", "keep the demo's state in this dir (default: a temporary dir, removed on exit)")
	f.gw.ssh.register(fl) // to try the console over SSH on the demo's queue
	f.gw.maxPending = store.DefaultMaxPending
	return cmd
}

// runDemoNode behaves like a device: it asks to pair, stays connected once
// approved, and asks again a while after a rejection or expiry.
func runDemoNode(ctx context.Context, logger *slog.Logger, url, dir string, n demoNode, delay time.Duration) {
	if !sleepCtx(ctx, delay) {
		return
	}
	id, err := client.LoadOrCreateIdentity(client.IdentityPath(dir))
	if err != nil {
		logger.Error("demo node identity", "node", n.name, "err", err)
		return
	}
	cfg := client.Config{URL: url, Identity: id, Logger: logger,
		Client: protocol.ClientInfo{Version: "1.4.2", Platform: n.platform, DeviceFamily: n.family, ModelIdentifier: n.model, DisplayName: n.name}}
	req := protocol.PairRequestParams{NodeMeta: protocol.NodeMeta{DisplayName: n.name, Platform: n.platform, DeviceFamily: n.family, ModelIdentifier: n.model, Version: "1.4.2", Caps: n.caps, Commands: n.commands}, Silent: &n.silent}
	for ctx.Err() == nil {
		out, err := client.Pair(ctx, cfg, req)
		if err != nil {
			logger.Info("demo node not paired", "node", n.name, "err", err)
			if !sleepCtx(ctx, 20*time.Second+time.Duration(rand.Int64N(int64(20*time.Second)))) {
				return
			}
			continue
		}
		out.State.GatewayURL = url
		c, err := client.ConnectNode(ctx, cfg, out.State)
		if err != nil {
			logger.Info("demo node cannot connect", "node", n.name, "err", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-c.Done(): // removed by the operator: ask again later
		}
		c.Close()
		if !sleepCtx(ctx, 15*time.Second) {
			return
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
