package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pairdeck/pairdeck/protocol"
)

func TestCallDeadlineDropsLateAnswer(t *testing.T) {
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		var late []protocol.Request
		for {
			req, err := s.read(ctx)
			if err != nil {
				return
			}
			if req.Method == "slow" {
				late = append(late, req)
				continue
			}
			// Answer the slow one now, long after its caller gave up,
			// then this one.
			for _, l := range late {
				s.send(protocol.OKResponse(l.ID, map[string]string{"who": "slow"}))
			}
			late = nil
			s.send(protocol.OKResponse(req.ID, map[string]string{"who": req.Method}))
		}
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = c.Call(ctx, "slow", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	var r struct{ Who string }
	if err := c.Call(testCtx(t), "fast", nil, &r); err != nil || r.Who != "fast" {
		t.Fatalf("next call = %+v, %v: the late answer must not be taken for it", r, err)
	}
	if c.State() != protocol.Connected {
		t.Errorf("state %v after a cancelled call, want connected", c.State())
	}
}

func TestConcurrentCalls(t *testing.T) {
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		s.serveRequests(ctx, func(req protocol.Request) (any, *protocol.Error) {
			var p protocol.NodeIDParams
			_ = json.Unmarshal(req.Params, &p)
			if p.NodeID == "bad" {
				return nil, protocol.NewError(protocol.CodeInvalidRequest, protocol.ReasonUnknownNode, "unknown nodeId")
			}
			return protocol.RemoveResult(p), nil
		})
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			id := fmt.Sprintf("n%d", i)
			if i%8 == 0 {
				id = "bad"
			}
			res, err := c.Remove(testCtx(t), id)
			var perr *protocol.Error
			switch {
			case id == "bad" && (!errors.As(err, &perr) || perr.Reason() != protocol.ReasonUnknownNode):
				errs <- fmt.Errorf("remove bad: %v, want UNKNOWN_NODE", err)
			case id != "bad" && (err != nil || res.NodeID != id):
				errs <- fmt.Errorf("remove %s = %+v, %v", id, res, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCallAfterCloseFails(t *testing.T) {
	gw := newFakeGateway(t)
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := c.List(testCtx(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("List after Close = %v, want ErrClosed", err)
	}
	if c.Err() != nil {
		t.Errorf("Err after a clean Close = %v, want nil", c.Err())
	}
	// The update stream ends.
	for range c.Updates() {
	}
}

func TestCallInFlightWhenConnectionDrops(t *testing.T) {
	gw := newFakeGateway(t)
	gw.serve = func(ctx context.Context, s *fakeSession) {
		_, _ = s.read(ctx)
		s.ws.CloseNow() // gone without answering
	}
	c, err := Dial(testCtx(t), Config{URL: gw.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Approve(testCtx(t), "r1")
	if !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("err = %v, want ErrConnectionLost", err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a client without Reconnect must stop when its connection drops")
	}
	if !errors.Is(c.Err(), ErrConnectionLost) {
		t.Errorf("Err = %v, want ErrConnectionLost", c.Err())
	}
}
