package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// appender loads messages into one IMAP folder over a bare connection:
// APPEND with non-synchronizing literals (LITERAL+, RFC 7888), pipelined
// up to a window of commands in flight, so that no round trip is paid
// per message. go-imap's client waits for a continuation above 4 KB.
type appender struct {
	conn    net.Conn
	w       *bufio.Writer
	folder  string
	window  chan struct{} // one token per command in flight
	timeout time.Duration

	mu      sync.Mutex // guards tag, pending, err
	tag     int
	pending map[string]chan appendResult
	err     error
	done    chan struct{} // closed when the reader stops
}

// appendResult is the server's answer to one APPEND.
type appendResult struct {
	uid uint32 // from APPENDUID, 0 when the server sent none
	err error
}

// dialAppender logs user in on the IMAP server at addr (plaintext,
// loopback) and prepares to append to folder.
func dialAppender(ctx context.Context, addr, user, pass, folder string, window int) (*appender, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("append: dial %s: %w", addr, err)
	}
	a := &appender{conn: conn, w: bufio.NewWriterSize(conn, 256<<10), folder: folder,
		window: make(chan struct{}, window), timeout: 2 * time.Minute,
		pending: map[string]chan appendResult{}, done: make(chan struct{})}
	r := bufio.NewReaderSize(conn, 64<<10)
	conn.SetDeadline(time.Now().Add(a.timeout))
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
		conn.Close()
		return nil, fmt.Errorf("append: greeting from %s: %q %v", addr, line, err)
	}
	fmt.Fprintf(a.w, "L LOGIN %s %s\r\n", quote(user), quote(pass))
	if err := a.w.Flush(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("append: login: %w", err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("append: login %s: %w", user, err)
		}
		if strings.HasPrefix(line, "L ") {
			if !strings.HasPrefix(line, "L OK") {
				conn.Close()
				return nil, fmt.Errorf("append: login %s: %s", user, strings.TrimSpace(line))
			}
			break
		}
	}
	conn.SetDeadline(time.Time{})
	go a.read(r)
	return a, nil
}

// quote renders s as an IMAP quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Send writes one APPEND and returns at once; the answer arrives on the
// returned channel. It blocks while the window is full.
func (a *appender) Send(ctx context.Context, raw []byte) (<-chan appendResult, error) {
	select {
	case a.window <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-a.done:
		return nil, a.failure()
	}
	ch := make(chan appendResult, 1)
	a.mu.Lock()
	a.tag++
	tag := "A" + strconv.Itoa(a.tag)
	a.pending[tag] = ch
	a.mu.Unlock()
	a.conn.SetWriteDeadline(time.Now().Add(a.timeout))
	fmt.Fprintf(a.w, "%s APPEND %s {%d+}\r\n", tag, quote(a.folder), len(raw))
	a.w.Write(raw)
	a.w.WriteString("\r\n")
	if err := a.w.Flush(); err != nil {
		a.fail(fmt.Errorf("append: write: %w", err))
		return nil, a.failure()
	}
	return ch, nil
}

// Append writes one APPEND and waits for its answer.
func (a *appender) Append(ctx context.Context, raw []byte) (uint32, error) {
	ch, err := a.Send(ctx, raw)
	if err != nil {
		return 0, err
	}
	select {
	case res := <-ch:
		return res.uid, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(a.timeout):
		return 0, errors.New("append: no answer within the timeout")
	}
}

// Close logs out (waiting for commands in flight) and closes the connection.
func (a *appender) Close() error {
	a.mu.Lock()
	a.tag++
	a.mu.Unlock()
	a.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(a.w, "Z LOGOUT\r\n")
	a.w.Flush()
	select {
	case <-a.done:
	case <-time.After(a.timeout):
	}
	return a.conn.Close()
}

// read dispatches tagged answers to their commands until the connection ends.
func (a *appender) read(r *bufio.Reader) {
	defer close(a.done)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			a.fail(fmt.Errorf("append: read: %w", err))
			return
		}
		tag, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		if tag == "*" || tag == "+" || tag == "Z" {
			continue
		}
		a.mu.Lock()
		ch := a.pending[tag]
		delete(a.pending, tag)
		a.mu.Unlock()
		if ch == nil {
			continue
		}
		<-a.window
		if !strings.HasPrefix(rest, "OK") {
			ch <- appendResult{err: fmt.Errorf("append: %s", rest)}
			continue
		}
		ch <- appendResult{uid: appendUID(rest)}
	}
}

// appendUID reads the UID of "OK [APPENDUID validity uid] …".
func appendUID(rest string) uint32 {
	_, after, ok := strings.Cut(rest, "[APPENDUID ")
	if !ok {
		return 0
	}
	f := strings.Fields(strings.TrimSuffix(strings.SplitN(after, "]", 2)[0], "]"))
	if len(f) != 2 {
		return 0
	}
	uid, _ := strconv.ParseUint(f[1], 10, 32)
	return uint32(uid)
}

// fail records the first error and answers every command in flight.
func (a *appender) fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = err
	}
	for tag, ch := range a.pending {
		ch <- appendResult{err: a.err}
		delete(a.pending, tag)
	}
	a.conn.Close()
}

func (a *appender) failure() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		return errors.New("append: connection closed")
	}
	return a.err
}
