package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// The gateway's memory under connections nobody vouches for. Each kind of
// socket is held open by the thousand against a fresh gateway with its
// default limits, and its resident set read once they all are: sockets
// that never send connect, unpaired nodes each waiting on a request of
// its own, paired nodes and operators. Then the big-frame attack: unpaired
// nodes that each send one 1 MiB frame at the same moment, and the
// gateway's peak resident set while they do. Every socket comes from its
// own loopback address (all of 127/8 is loopback on Linux), as strangers
// on a network have their own, so the per-network caps do not close them
// and what is measured is the cost of the sockets themselves.

// StageConns is the stage name.
const StageConns = "conns"

// Full-scale counts.
const (
	connsPerKind  = 5000
	bigFrameNodes = 1000
	bigFrameBytes = 1 << 20
	// connWorkers is how many sockets are opened at once.
	connWorkers = 64
	// handshakeTimeout is the gateway's: sockets that never send connect
	// live this long.
	handshakeTimeout = 10 * time.Second
	// unpairedGrace is how long an unpaired node that has not asked to
	// pair may stay.
	unpairedGrace = 15 * time.Second
	// connFiles is the descriptors the harness and the gateway need beyond
	// one per socket each.
	connFiles = 1024
)

func init() {
	for k, t := range map[string]Target{
		"rss_mb_conns_handshaking": {AtMost: true, Limit: 150},
		"rss_mb_conns_unpaired":    {AtMost: true, Limit: 150},
		"rss_mb_conns_waiting":     {AtMost: true, Limit: 150},
		"rss_mb_conns_paired":      {AtMost: true, Limit: 150},
		"rss_mb_conns_operators":   {AtMost: true, Limit: 150},
		"rss_peak_mb_big_frames":   {AtMost: true, Limit: 150},
	} {
		targets[k] = t
	}
}

// connKind is one kind of socket held open.
type connKind struct {
	key, label string
	open       func(ctx context.Context, url string, src net.IP, i int) (*websocket.Conn, error)
}

func (b *runner) conns(ctx context.Context) error {
	n := b.opts.n(connsPerKind)
	big := b.opts.n(bigFrameNodes)
	if err := raiseFileLimit(2*max(n, big) + connFiles); err != nil {
		return err
	}
	var paired []pairedNode
	kinds := []connKind{
		{"handshaking", "sockets that never send connect", func(ctx context.Context, url string, src net.IP, _ int) (*websocket.Conn, error) {
			ws, _, err := dialFrom(ctx, url, src)
			return ws, err
		}},
		{"unpaired", "unpaired nodes that have not asked yet", func(ctx context.Context, url string, src net.IP, _ int) (*websocket.Conn, error) {
			return connectNode(ctx, url, src, nil)
		}},
		{"waiting", "unpaired nodes, each waiting on its own request", func(ctx context.Context, url string, src net.IP, i int) (*websocket.Conn, error) {
			ws, err := connectNode(ctx, url, src, nil)
			if err == nil {
				p := nodeParams("", i)
				p.RemoteIP = ""
				err = nodeCall(ctx, ws, protocol.NewRequest("2", protocol.MethodPairRequest, p))
			}
			return ws, err
		}},
		{"paired", "paired nodes", func(ctx context.Context, url string, src net.IP, i int) (*websocket.Conn, error) {
			return connectNode(ctx, url, src, &paired[i])
		}},
		{"operators", "operators", nil}, // set below: needs the child's token
	}
	for _, k := range kinds {
		var seed func(dir string) error
		if k.key == "paired" {
			seed = func(dir string) error {
				var err error
				paired, err = seedPairedIdentities(ctx, dir, n)
				return err
			}
		}
		err := b.withSeededGateway(ctx, "conns-"+k.key, "", seed, func(c *child) error {
			open := k.open
			if open == nil {
				open = func(ctx context.Context, url string, src net.IP, _ int) (*websocket.Conn, error) {
					return connectOperator(ctx, url, src, c.token)
				}
			}
			idle, err := c.rssMB()
			if err != nil {
				return err
			}
			start := time.Now()
			conns, err := holdConns(ctx, c.url, n, open)
			defer closeConns(conns)
			if err != nil {
				return fmt.Errorf("%s: %w", k.label, err)
			}
			// Sockets that never send connect are closed after the
			// handshake timeout, unpaired nodes that do not ask after their
			// grace: read those at once.
			brief := map[string]time.Duration{"handshaking": handshakeTimeout, "unpaired": unpairedGrace}[k.key]
			if took := time.Since(start); brief > 0 && took > brief {
				b.r.note("opening %d %s took %s, longer than the %s the gateway lets them stay: the first were closed before the RSS was read", n, k.label, took.Round(time.Millisecond), brief)
			}
			peak, err := c.hwmMB()
			if err != nil {
				return err
			}
			rss := peak
			if brief == 0 {
				if rss, err = b.steadyRSS(ctx, c); err != nil {
					return err
				}
			}
			b.r.add(Figure{Key: "rss_mb_conns_" + k.key, Label: fmt.Sprintf("RSS with %d %s", n, k.label), Unit: "MB", Value: round(rss, 1), Samples: n})
			b.r.add(Figure{Key: "kb_per_conn_" + k.key, Label: "memory per socket (RSS above the idle gateway's)", Unit: "KB", Value: round((rss-idle)*1024/float64(n), 1), Samples: n})
			b.r.add(Figure{Key: "rss_peak_mb_conns_" + k.key, Label: "RSS peak while they connected", Unit: "MB", Value: round(peak, 1), Samples: n})
			return nil
		})
		if err != nil {
			return err
		}
	}
	// The waiting nodes' figure holds their 5,000 requests too: what the
	// queue alone costs, without a socket.
	err := b.withSeededGateway(ctx, "conns-queue", "", func(dir string) error {
		return seedState(ctx, dir, 0, n, benchTTL)
	}, func(c *child) error {
		rss, err := b.steadyRSS(ctx, c)
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "rss_mb_queue_only", Label: fmt.Sprintf("RSS of a gateway with the same %d requests pending and no sockets", n), Unit: "MB", Value: round(rss, 1), Samples: n})
		return nil
	})
	if err != nil {
		return err
	}
	return b.withSeededGateway(ctx, "conns-big-frames", "", nil, func(c *child) error {
		conns, err := holdConns(ctx, c.url, big, func(ctx context.Context, url string, src net.IP, _ int) (*websocket.Conn, error) {
			return connectNode(ctx, url, src, nil)
		})
		defer closeConns(conns)
		if err != nil {
			return fmt.Errorf("unpaired nodes for the big frames: %w", err)
		}
		refused := bigFrames(ctx, conns)
		peak, err := c.hwmMB()
		if err != nil {
			return err
		}
		if err := settle(ctx, b.opts.settle()); err != nil {
			return err
		}
		after, err := c.rssMB()
		if err != nil {
			return err
		}
		b.r.add(Figure{Key: "rss_peak_mb_big_frames", Label: fmt.Sprintf("RSS peak while %d unpaired nodes each send a 1 MiB frame at once", big), Unit: "MB", Value: round(peak, 1), Samples: big})
		b.r.add(Figure{Key: "rss_mb_after_big_frames", Label: "RSS after the big frames", Unit: "MB", Value: round(after, 1), Samples: big})
		b.r.add(Figure{Key: "big_frames_refused", Label: "big frames refused with close 1009 (frame too big)", Unit: "frames", Value: float64(refused), Samples: big})
		return nil
	})
}

// steadyRSS waits for the gateway's resident set to settle once the
// sockets are open (the runtime hands memory freed by the burst of
// connects back to the system over a few seconds) and returns it: it is
// read every quarter second until it has not fallen by more than 1% over
// two seconds, or for at most maxSettle.
func (b *runner) steadyRSS(ctx context.Context, c *child) (float64, error) {
	const step, still, maxSettle = 250 * time.Millisecond, 2 * time.Second, 20 * time.Second
	if b.opts.Samples < 0.1 {
		return c.rssMB() // a test's run: no time to wait
	}
	rss, err := c.rssMB()
	if err != nil {
		return 0, err
	}
	mark, markAt, start := rss, time.Now(), time.Now()
	for time.Since(start) < maxSettle {
		if err := settle(ctx, step); err != nil {
			return 0, err
		}
		if rss, err = c.rssMB(); err != nil {
			return 0, err
		}
		if rss < mark*0.99 {
			mark, markAt = rss, time.Now()
		} else if time.Since(markAt) >= still {
			break
		}
	}
	return rss, nil
}

// holdConns opens n sockets with open, connWorkers at a time, each from
// its own loopback address, and returns them open.
func holdConns(ctx context.Context, url string, n int, open func(ctx context.Context, url string, src net.IP, i int) (*websocket.Conn, error)) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	err := parallelN(ctx, n, connWorkers, func(i int) error {
		cctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		ws, err := open(cctx, url, fleetAddr(i), i)
		if err != nil {
			if ws != nil {
				ws.CloseNow()
			}
			return fmt.Errorf("socket %d from %s: %w", i, fleetAddr(i), err)
		}
		conns[i] = ws
		return nil
	})
	return conns, err
}

func closeConns(conns []*websocket.Conn) {
	for _, ws := range conns {
		if ws != nil {
			ws.CloseNow()
		}
	}
}

// bigFrames sends one frame of exactly 1 MiB (a node.pair.request whose
// name fills it: the most a 1 MiB read limit lets through) on every socket
// at once and returns how many the gateway refused with 1009.
func bigFrames(ctx context.Context, conns []*websocket.Conn) int {
	head, tail := `{"type":"req","id":"big","method":"node.pair.request","params":{"displayName":"`, `"}}`
	frame := make([]byte, bigFrameBytes)
	copy(frame, head)
	for i := len(head); i < len(frame)-len(tail); i++ {
		frame[i] = 'x'
	}
	copy(frame[len(frame)-len(tail):], tail)
	var refused int
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, ws := range conns {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			<-start
			// The gateway stops reading at its limit, so the write may
			// fail; what it answers is read after.
			_ = ws.Write(cctx, websocket.MessageText, frame)
			for {
				if _, _, err := ws.Read(cctx); err != nil {
					if websocket.CloseStatus(err) == websocket.StatusMessageTooBig {
						mu.Lock()
						refused++
						mu.Unlock()
					}
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	return refused
}

// dialFrom opens a WebSocket from src and reads connect.challenge.
func dialFrom(ctx context.Context, url string, src net.IP) (*websocket.Conn, string, error) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, "", fmt.Errorf("dial from %s: %w", src, err)
	}
	var challenge struct {
		Payload protocol.ChallengeEvent `json:"payload"`
	}
	if err := readJSON(ctx, ws, &challenge); err != nil || challenge.Payload.Nonce == "" {
		ws.CloseNow()
		return nil, "", fmt.Errorf("no connect.challenge (%v)", err)
	}
	return ws, challenge.Payload.Nonce, nil
}

// connectNode connects as a node from src: unpaired with a fresh
// identity when n is nil, else paired with n's token.
func connectNode(ctx context.Context, url string, src net.IP, n *pairedNode) (*websocket.Conn, error) {
	ws, nonce, err := dialFrom(ctx, url, src)
	if err != nil {
		return nil, err
	}
	if n == nil {
		id, err := client.NewIdentity()
		if err != nil {
			ws.CloseNow()
			return nil, err
		}
		n = &pairedNode{id: id}
	}
	const clientID, mode, platform = "node-host", "node", "linux"
	device := protocol.SignDevice(n.id.PrivateKey, protocol.SignedPayload{
		DeviceID: n.id.DeviceID, ClientID: clientID, ClientMode: mode, Role: protocol.RoleNode,
		SignedAtMs: time.Now().UnixMilli(), Token: n.token, Nonce: nonce, Platform: platform,
	})
	params := protocol.ConnectParams{
		MinProtocol: protocol.Version, MaxProtocol: protocol.Version,
		Client: protocol.ClientInfo{ID: clientID, Mode: mode, Version: "bench", Platform: platform},
		Role:   protocol.RoleNode, Device: &device,
	}
	if n.token != "" {
		params.Auth = &protocol.ConnectAuth{Token: n.token}
	}
	if err := nodeCall(ctx, ws, protocol.NewRequest("1", protocol.MethodConnect, params)); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("node connect: %w", err)
	}
	return ws, nil
}

// connectOperator connects as an operator from src.
func connectOperator(ctx context.Context, url string, src net.IP, token string) (*websocket.Conn, error) {
	ws, _, err := dialFrom(ctx, url, src)
	if err != nil {
		return nil, err
	}
	params := protocol.ConnectParams{
		MinProtocol: protocol.Version, MaxProtocol: protocol.Version,
		Client: protocol.ClientInfo{ID: "cli", Version: "bench", Platform: "linux", Mode: "cli"},
		Role:   protocol.RoleOperator, Auth: &protocol.ConnectAuth{Token: token},
	}
	if err := nodeCall(ctx, ws, protocol.NewRequest("1", protocol.MethodConnect, params)); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("operator connect: %w", err)
	}
	return ws, nil
}

// seedPairedIdentities pairs n node identities in stateDir through the
// store, before the gateway starts, and returns them with their tokens.
func seedPairedIdentities(ctx context.Context, stateDir string, n int) ([]pairedNode, error) {
	st, err := store.Open(store.Options{StateDir: stateDir, TTL: benchTTL, MaxPending: n + 1})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer st.Close()
	nodes := make([]pairedNode, n)
	err = parallel(ctx, n, func(i int) error {
		id, err := client.NewIdentity()
		if err != nil {
			return err
		}
		req, _, err := st.Request(ctx, seedActor, nodeParams(id.DeviceID, i))
		if err != nil {
			return err
		}
		node, _, err := st.Approve(ctx, seedActor, req.RequestID)
		nodes[i] = pairedNode{id: id, token: node.Token}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seed paired nodes: %w", err)
	}
	return nodes, st.Close()
}

// parallelN runs f(0…n-1) on workers goroutines and returns the first
// error.
func parallelN(ctx context.Context, n, workers int, f func(i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return first
}

// raiseFileLimit makes sure this process (and the gateways it starts,
// which inherit the limit) may open need files.
func raiseFileLimit(need int) error {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("read the file limit: %w", err)
	}
	if rl.Cur >= uint64(need) {
		return nil
	}
	if rl.Max < uint64(need) {
		return fmt.Errorf("the %s stage needs %d open files and the hard limit is %d: raise it (ulimit -Hn %d, as root) or run a smaller sample", StageConns, need, rl.Max, need)
	}
	rl.Cur = uint64(need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return fmt.Errorf("raise the file limit to %d: %w", need, err)
	}
	return nil
}
