package client

import (
	"context"

	"github.com/pairdeck/pairdeck/protocol"
)

// History reads one page of the gateway's history (pairdeck.history.list),
// newest first; q.Before set to a page's Next continues with older events.
// A gateway without it (OpenClaw's) is never sent the call: the error is an
// *UnsupportedError for CapHistory, whose message says so in one line.
func (c *Client) History(ctx context.Context, q protocol.HistoryQuery) (protocol.HistoryPage, error) {
	var page protocol.HistoryPage
	if err := c.Call(ctx, protocol.MethodHistoryList, q, &page); err != nil {
		return protocol.HistoryPage{}, err
	}
	if page.Events == nil {
		page.Events = []protocol.HistoryEvent{}
	}
	return page, nil
}
