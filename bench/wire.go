package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/pairdeck/pairdeck/client"
	"github.com/pairdeck/pairdeck/protocol"
)

// callTimeout bounds one call of the load generator: a gateway that stops
// answering fails the run instead of hanging it.
const callTimeout = 30 * time.Second

// dialOperator connects one operator console with every scope, as the
// CLI and the remote console do.
func dialOperator(ctx context.Context, url, token string) (*client.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	c, err := client.Dial(ctx, client.Config{
		URL:    url,
		Token:  token,
		Client: protocol.ClientInfo{ID: "cli", Mode: "cli", Version: "bench"},
	})
	if err != nil {
		return nil, fmt.Errorf("connect operator: %w", err)
	}
	return c, nil
}

// dialOperators connects n operators concurrently.
func dialOperators(ctx context.Context, url, token string, n int) ([]*client.Client, error) {
	out := make([]*client.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i], errs[i] = dialOperator(ctx, url, token) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			closeAll(out)
			return nil, err
		}
	}
	return out, nil
}

func closeAll(cs []*client.Client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c != nil {
			wg.Go(func() { c.Close() })
		}
	}
	wg.Wait()
}

// request asks to pair node i on its behalf (operators are not rate
// limited; nodes are, per address, which loopback load would trip at once)
// and returns the call's wall time.
func request(ctx context.Context, c *client.Client, id string, i int) (time.Duration, protocol.PairRequestResult, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	start := time.Now()
	res, err := c.PairRequest(ctx, nodeParams(id, i))
	d := time.Since(start)
	if err == nil && !res.Created {
		err = fmt.Errorf("request for new node %s answered created:false", id)
	}
	return d, res, err
}

func approve(ctx context.Context, c *client.Client, requestID string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	start := time.Now()
	res, err := c.Approve(ctx, requestID)
	d := time.Since(start)
	if err == nil && res.Node.Token == "" {
		err = fmt.Errorf("approve %s: no token in the result", requestID)
	}
	return d, err
}

func reject(ctx context.Context, c *client.Client, requestID string) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := c.Reject(ctx, requestID)
	return err
}

// rawOperator is an operator connection without the client package, so
// node.pair.list is timed without the client's decoding of every record.
type rawOperator struct {
	ws  *websocket.Conn
	ids int
}

// rawReadLimit is far above any list the harness makes.
const rawReadLimit = 256 << 20

func dialRaw(ctx context.Context, url, token string) (*rawOperator, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(rawReadLimit)
	r := &rawOperator{ws: ws}
	// connect.challenge first; operators without a device identity do not
	// sign it.
	if _, err := r.read(ctx); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("wait for challenge: %w", err)
	}
	params := protocol.ConnectParams{
		MinProtocol: protocol.Version,
		MaxProtocol: protocol.Version,
		Client:      protocol.ClientInfo{ID: "cli", Version: "bench", Platform: "linux", Mode: "cli"},
		Role:        protocol.RoleOperator,
		Scopes:      protocol.AllOperatorScopes,
		Auth:        &protocol.ConnectAuth{Token: token},
	}
	if _, err := r.call(ctx, protocol.MethodConnect, params); err != nil {
		ws.CloseNow()
		return nil, fmt.Errorf("connect: %w", err)
	}
	return r, nil
}

func (r *rawOperator) read(ctx context.Context) ([]byte, error) {
	_, data, err := r.ws.Read(ctx)
	return data, err
}

// call sends one request and returns the raw response frame, skipping
// events. Only the frame's head is checked for ok:true, so the time is the
// gateway's and the wire's, not a JSON decoder's.
func (r *rawOperator) call(ctx context.Context, method string, params any) ([]byte, error) {
	r.ids++
	id := strconv.Itoa(r.ids)
	data, err := json.Marshal(protocol.NewRequest(id, method, params))
	if err != nil {
		return nil, err
	}
	if err := r.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return nil, err
	}
	head := []byte(`{"type":"res","id":"` + id + `","ok":`)
	for {
		frame, err := r.read(ctx)
		if err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(frame, head) {
			continue // an event
		}
		if !bytes.HasPrefix(frame[len(head):], []byte("true")) {
			return nil, fmt.Errorf("%s refused: %.300s", method, frame)
		}
		return frame, nil
	}
}

// list times one node.pair.list.
func (r *rawOperator) list(ctx context.Context) (time.Duration, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	start := time.Now()
	frame, err := r.call(ctx, protocol.MethodPairList, struct{}{})
	return time.Since(start), frame, err
}

func (r *rawOperator) close() { r.ws.Close(websocket.StatusNormalClosure, "") }

// checkList decodes one list frame fully and checks its counts.
func checkList(frame []byte, pending, paired int) error {
	var f struct {
		Payload protocol.PairListResult `json:"payload"`
	}
	if err := json.Unmarshal(frame, &f); err != nil {
		return fmt.Errorf("decode node.pair.list: %w", err)
	}
	if len(f.Payload.Pending) != pending || len(f.Payload.Paired) != paired {
		return fmt.Errorf("node.pair.list has %d pending and %d paired, want %d and %d",
			len(f.Payload.Pending), len(f.Payload.Paired), pending, paired)
	}
	return nil
}
