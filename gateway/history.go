package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pairdeck/pairdeck/protocol"
	"github.com/pairdeck/pairdeck/store"
)

// historyList is pairdeck.history.list: one page of the audit log, newest
// first, as the store reads it. A remote console and the CLI get the same
// history an operator at the gateway's machine reads from the files.
//
// The query is checked strictly before anything is read: a limit beyond
// protocol.HistoryMaxLimit is refused rather than cut short, so a client
// never takes a short page for the end of the log.
func (g *Gateway) historyList(_ context.Context, _ *session, raw json.RawMessage) (any, *protocol.Error) {
	const m = protocol.MethodHistoryList
	var q protocol.HistoryQuery
	if e := decode(m, raw, &q); e != nil {
		return nil, e
	}
	if err := checkHistoryQuery(&q); err != nil {
		return nil, protocol.InvalidField(m, err)
	}
	page, err := g.store.History(q)
	if err != nil {
		if errors.Is(err, store.ErrInvalid) {
			// A cursor that is not one: the store's message says what to
			// pass instead.
			return nil, protocol.InvalidParams(m, strings.TrimPrefix(err.Error(), "history: "))
		}
		g.log.Warn("read history", "err", err)
		e := protocol.NewError(protocol.CodeUnavailable, protocol.ReasonStoreFailed,
			"the gateway could not read its history (%v): check the state dir's nodes/audit.jsonl and its permissions, then retry", err)
		e.Retryable = true
		return nil, e
	}
	return page, nil
}

// checkHistoryQuery refuses a query outside the method's limits, naming
// the field.
func checkHistoryQuery(q *protocol.HistoryQuery) error {
	q.NodeID = strings.TrimSpace(q.NodeID)
	switch {
	case q.Limit < 0 || q.Limit > protocol.HistoryMaxLimit:
		return &protocol.FieldError{Field: "limit", Err: fmt.Errorf("%d is out of range: give 1 to %d (0 or none means %d), and page on with before",
			q.Limit, protocol.HistoryMaxLimit, protocol.HistoryDefaultLimit)}
	case q.SinceMs < 0:
		return &protocol.FieldError{Field: "sinceMs", Err: fmt.Errorf("%d is before 1970: give Unix milliseconds, or leave it out", q.SinceMs)}
	case len(q.Actions) > protocol.HistoryMaxActions:
		return &protocol.FieldError{Field: "actions", Err: fmt.Errorf("%d actions: give at most %d", len(q.Actions), protocol.HistoryMaxActions)}
	case len(q.Before) > 64:
		return &protocol.FieldError{Field: "before", Err: errors.New("not a cursor from a history page (pass a page's next as before)")}
	}
	if q.NodeID != "" {
		if err := protocol.CheckNodeID(q.NodeID); err != nil {
			return err
		}
	}
	for i, a := range q.Actions {
		if a == "" || len(a) > 64 || strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' }) {
			return &protocol.FieldError{Field: fmt.Sprintf("actions[%d]", i), Err: fmt.Errorf("%q is not an action name (\"approved\", \"rejected\", …)", a)}
		}
	}
	return nil
}

// History is pairdeck.history.list.
func (lo *LocalOperator) History(ctx context.Context, q protocol.HistoryQuery) (protocol.HistoryPage, error) {
	return call[protocol.HistoryPage](ctx, lo, protocol.MethodHistoryList, q)
}
