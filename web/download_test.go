package web

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
)

// smallBuffers makes the server's send buffers small, so that a response
// waits for its reader instead of vanishing into the kernel.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(64 << 10)
	}
	return c, err
}

// sent is what a handler saw of its response: the write's error, how long
// it took, and whether the request's context had ended by then.
type sent struct {
	err, ctxErr error
	took        time.Duration
}

// TestDownloadDeadlines: a download may take longer than
// http.write_timeout while its reader keeps reading, a page may not, and
// a download whose reader stops is cut off after http.write_timeout, long
// before http.download_timeout.
func TestDownloadDeadlines(t *testing.T) {
	const part = 400 * time.Millisecond
	body := bytes.Repeat([]byte("0123456789abcdef"), 2<<20/16)
	d := &Dashboard{partTimeout: part, downloadTimeout: time.Minute}
	result := make(chan sent, 1)
	send := func(w http.ResponseWriter, r *http.Request, _ *viewer) error {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		start := time.Now()
		_, err := w.Write(body)
		result <- sent{err: err, took: time.Since(start), ctxErr: r.Context().Err()}
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /download", func(w http.ResponseWriter, r *http.Request) { d.download(send)(w, r, nil) })
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) { send(w, r, nil) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(smallBuffers{ln}, ServerOptions{Handler: mux, Logger: slog.New(slog.DiscardHandler),
		HTTP: config.HTTP{ReadHeaderTimeout: part, ReadTimeout: part, WriteTimeout: part, IdleTimeout: time.Minute,
			MaxHeaderBytes: 64 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Shutdown(t.Context()) })

	cases := []struct {
		name, path string
		// rests is how many times the reader rests for a third of the
		// write timeout after reading 256 KB; -1 stops reading after the
		// first 256 KB.
		rests int
		full  bool
	}{
		{"a download read with rests, longer than the write timeout in all", "/download", 8, true},
		{"a page read the same way is cut at the write timeout", "/page", 8, false},
		{"a download whose reader stops is cut after the write timeout", "/download", -1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan int, 1)
			go func() { done <- slowGet(t, ln.Addr().String(), tc.path, tc.rests, part) }()
			var s sent
			select {
			case s = <-result:
			case <-time.After(20 * time.Second):
				t.Fatal("the handler's write neither ended nor failed")
			}
			got := <-done
			t.Logf("the handler's write took %s (%v); the reader got %d of %d bytes", s.took, s.err, got, len(body))
			if !tc.full {
				if s.err == nil || got >= len(body) {
					t.Fatalf("the response went out whole; want it cut off")
				}
				if s.took > 10*part {
					t.Fatalf("the write failed after %s; want about the write timeout %s", s.took, part)
				}
				return
			}
			if s.err != nil || got != len(body) {
				t.Fatalf("the download was cut off")
			}
			if s.took < 2*part {
				t.Fatalf("the download took %s, not longer than the write timeout %s: the test proves nothing", s.took, part)
			}
			if s.ctxErr != nil {
				t.Errorf("the request's context ended during the download: %v", s.ctxErr)
			}
		})
	}
}

// slowGet fetches path over a fresh connection, reading 256 KB at a time
// and resting a third of part between reads rests times (or, when rests is
// -1, stopping after the first read until the server gives up); it
// returns how many body bytes arrived.
func slowGet(t *testing.T, addr, path string, rests int, part time.Duration) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: earshot\r\n\r\n", path)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Error(err)
		return 0
	}
	total := 0
	for i := 0; ; i++ {
		n, err := io.CopyN(io.Discard, resp.Body, 256<<10)
		total += int(n)
		if err != nil {
			return total
		}
		switch {
		case rests < 0:
			// The server gives up on the write; only then read on.
			time.Sleep(3 * part)
		case i < rests:
			time.Sleep(part / 3)
		}
	}
}
