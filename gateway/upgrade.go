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
// served with for as long as it is open. net/http's are 4 KiB each; a
// socket reads frames of a few hundred bytes and writes whole frames
// (bufio hands anything larger than its buffer straight to the socket), so
// 512 bytes each serve it as well and let thousands of idle sockets cost 7
// KiB less apiece.
const socketBuffer = 512

// smallBuffers is the ResponseWriter the upgrade sees: its Hijack hands
// over the connection with buffers of socketBuffer bytes, carrying over
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
	return conn, bufio.NewReadWriter(bufio.NewReaderSize(r, socketBuffer), bufio.NewWriterSize(conn, socketBuffer)), nil
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
