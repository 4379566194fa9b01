package gateway

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
)

// A WebSocket keeps the buffered reader and writer its upgrade request was
// served with for as long as it is open. net/http's are 4 KiB each. A
// socket reads requests of a few hundred bytes, and a frame it writes goes
// out in one system call when it fits the writer (events and answers are
// mostly under 1 KiB; bufio hands the rest of a larger frame straight to
// the socket). 1 KiB each keeps those to one call (512 bytes cost a
// request and a fan-out to 50 consoles a quarter more CPU, in calls) and
// lets thousands of idle sockets cost 6 KiB less apiece.
const (
	socketReadBuffer  = 1 << 10
	socketWriteBuffer = 1 << 10
)

// smallBuffers is the ResponseWriter the upgrade sees: its Hijack hands
// over the connection with those smaller buffers, carrying over
// whatever the client had already sent.
type smallBuffers struct{ http.ResponseWriter }

func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("http.ResponseWriter does not implement http.Hijacker")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	var r io.Reader = conn
	if n := brw.Reader.Buffered(); n > 0 {
		early, _ := brw.Reader.Peek(n)
		r = io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)
	}
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(r, socketReadBuffer), bufio.NewWriterSize(conn, socketWriteBuffer)), nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
