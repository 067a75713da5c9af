package testenv

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// appendRecorder is a scripted IMAP server that accepts LOGIN and APPEND
// with non-synchronizing literals, records every literal exactly as it
// arrives, and refuses a command holding an empty message, as Dovecot
// does ("Can't save a zero byte message").
type appendRecorder struct {
	addr     string
	mu       sync.Mutex
	got      [][]byte
	commands int
}

func startAppendRecorder(t *testing.T) *appendRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	rec := &appendRecorder{addr: ln.Addr().String()}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go rec.serve(conn)
		}
	}()
	return rec
}

func (rec *appendRecorder) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "* OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND] ready\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb, _, _ := strings.Cut(cmd, " ")
		switch strings.ToUpper(verb) {
		case "APPEND":
			var msgs [][]byte
			for {
				// The line so far ends in "{n+}" while literals follow.
				i := strings.LastIndex(line, "{")
				if i < 0 || !strings.HasSuffix(strings.TrimRight(line, "\r\n"), "+}") {
					break
				}
				n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimRight(line, "\r\n"), "+}")[i+1:])
				b := make([]byte, n)
				if _, err := io.ReadFull(r, b); err != nil {
					return
				}
				msgs = append(msgs, b)
				if line, err = r.ReadString('\n'); err != nil {
					return
				}
			}
			rec.mu.Lock()
			rec.commands++
			empty := false
			for _, m := range msgs {
				empty = empty || len(m) == 0
			}
			if empty {
				rec.mu.Unlock()
				fmt.Fprintf(conn, "%s NO Can't save a zero byte message\r\n", tag)
				continue
			}
			first := len(rec.got) + 1
			rec.got = append(rec.got, msgs...)
			last := len(rec.got)
			rec.mu.Unlock()
			fmt.Fprintf(conn, "%s OK [APPENDUID 7 %d:%d] Append completed\r\n", tag, first, last)
		case "LOGOUT":
			fmt.Fprintf(conn, "* BYE\r\n%s OK bye\r\n", tag)
			return
		default:
			fmt.Fprintf(conn, "%s OK done\r\n", tag)
		}
	}
}

// AppendRaw sends every message byte for byte, whatever its line endings,
// in few commands, and finds the one message a server refuses.
func TestAppendRaw(t *testing.T) {
	rec := startAppendRecorder(t)
	d := &DovecotServer{Addr: rec.addr}
	msgs := [][]byte{
		[]byte("Subject: crlf\r\n\r\nbody\r\n"),
		[]byte("Subject: lf\n\nbody\n"),
		[]byte("Subject: classic mac\r\rbody\r"),
		[]byte("Subject: mixed\r\nX: y\n\r\nbody\rmore\n"),
		{},
		[]byte("no header, no line break, NUL \x00 and 8-bit \xe9"),
		[]byte("Subject: braces\r\n\r\n{5+}\r\nlooks like a literal\r\n"),
	}
	for i := range 57 {
		msgs = append(msgs, []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", i)))
	}
	uids, refused := d.AppendRaw(t, "intel@example.test", "INBOX", msgs)
	var stored [][]byte
	for i, m := range msgs {
		switch {
		case len(m) == 0:
			if uids[i] != 0 || !strings.Contains(refused[i], "zero byte") {
				t.Errorf("empty message: uid %d, refusal %q; want it refused", uids[i], refused[i])
			}
		case refused[i] != "" || uids[i] == 0:
			t.Errorf("message %d refused: %q", i, refused[i])
		default:
			stored = append(stored, m)
			rec.mu.Lock()
			got := rec.got[uids[i]-1]
			rec.mu.Unlock()
			if !bytes.Equal(got, m) {
				t.Errorf("message %d arrived as %q, want %q", i, got, m)
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != len(stored) {
		t.Errorf("server stored %d messages, want %d", len(rec.got), len(stored))
	}
	// One command for all, refused; then halves until the empty message is
	// alone: two commands per halving, 13 for 64 messages, where one per
	// message takes 64.
	if rec.commands > 13 {
		t.Errorf("%d APPEND commands for %d messages", rec.commands, len(msgs))
	}
}
