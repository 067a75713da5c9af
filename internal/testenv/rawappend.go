package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawAppendBatchBytes bounds the message bytes of one APPEND command.
const rawAppendBatchBytes = 2 << 20

// AppendRaw stores msgs in user's folder over IMAP exactly as given: no
// line ending is converted (Append converts bare LF to CRLF; IMAP clients
// such as go-imap may rewrite too). It writes raw APPEND commands with
// non-synchronizing literals (LITERAL+, RFC 7888), several messages per
// command (MULTIAPPEND, RFC 3502), which takes about a second for a few
// thousand small messages where one command per message takes tens of
// milliseconds each. It returns each message's UID, or 0 and the server's
// answer for a message the server refused (Dovecot refuses an empty one).
// A command the server refuses is split until the message it refused is
// found. What the server then does with the bytes
// is its own business: Dovecot serves bare LF as CRLF and NUL as 0x80.
func (d *DovecotServer) AppendRaw(t testing.TB, user, folder string, msgs [][]byte) (uids []uint32, refused []string) {
	t.Helper()
	c, err := dialRaw(d.Addr, user, d.Password(user))
	if err != nil {
		t.Fatalf("dovecot: raw append: %v", err)
	}
	defer c.close()
	if !strings.EqualFold(folder, "INBOX") {
		if _, err := c.command("CREATE " + quoteIMAP(folder)); err != nil && !strings.Contains(err.Error(), "ALREADYEXISTS") {
			t.Fatalf("dovecot: raw append: create %s: %v", folder, err)
		}
	}
	uids, refused = make([]uint32, len(msgs)), make([]string, len(msgs))
	for start := 0; start < len(msgs); {
		end, size := start, 0
		for end < len(msgs) && (end == start || size+len(msgs[end]) <= rawAppendBatchBytes) {
			size += len(msgs[end])
			end++
		}
		if err := c.appendSplit(folder, msgs[start:end], uids[start:end], refused[start:end]); err != nil {
			t.Fatalf("dovecot: raw append: %v", err)
		}
		start = end
	}
	return uids, refused
}

// appendSplit appends msgs in one command, filling uids. When the server
// refuses the command it appends each half the same way, down to single
// messages, whose refusal goes to refused: a few commands find the one
// message a server refuses among hundreds.
func (c *rawConn) appendSplit(folder string, msgs [][]byte, uids []uint32, refused []string) error {
	got, err := c.appendAll(folder, msgs)
	var no *refusal
	switch {
	case err == nil:
		copy(uids, got)
		return nil
	case !errors.As(err, &no):
		return err
	case len(msgs) == 1:
		refused[0] = no.answer
		return nil
	}
	half := len(msgs) / 2
	if err := c.appendSplit(folder, msgs[:half], uids[:half], refused[:half]); err != nil {
		return err
	}
	return c.appendSplit(folder, msgs[half:], uids[half:], refused[half:])
}

// refusal is a NO or BAD answer to a command.
type refusal struct{ answer string }

func (r *refusal) Error() string { return r.answer }

// rawConn is a logged-in IMAP connection written to by hand.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
	tag  int
}

// dialRaw connects to addr and logs user in.
func dialRaw(addr, user, pass string) (*rawConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := &rawConn{conn: conn, r: bufio.NewReader(conn)}
	if _, err := c.line(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if _, err := c.command("LOGIN " + quoteIMAP(user) + " " + quoteIMAP(pass)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("login %s: %w", user, err)
	}
	return c, nil
}

func (c *rawConn) close() {
	_, _ = c.command("LOGOUT")
	_ = c.conn.Close()
}

// line reads one response line without its CRLF, within a minute.
func (c *rawConn) line() (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(time.Minute))
	l, err := c.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

// command sends a command without literals and returns its tagged OK
// line, or an error holding the server's answer.
func (c *rawConn) command(cmd string) (string, error) {
	c.tag++
	tag := "r" + strconv.Itoa(c.tag)
	if _, err := fmt.Fprintf(c.conn, "%s %s\r\n", tag, cmd); err != nil {
		return "", err
	}
	return c.tagged(tag)
}

// tagged reads responses up to the one tagged tag.
func (c *rawConn) tagged(tag string) (string, error) {
	for {
		l, err := c.line()
		if err != nil {
			return "", err
		}
		if rest, ok := strings.CutPrefix(l, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return "", &refusal{answer: rest}
			}
			return rest, nil
		}
	}
}

// appendAll appends msgs in one APPEND command and returns their UIDs from
// the APPENDUID response code (RFC 4315).
func (c *rawConn) appendAll(folder string, msgs [][]byte) ([]uint32, error) {
	c.tag++
	tag := "r" + strconv.Itoa(c.tag)
	// The writer runs beside the reader, so that a server that answers
	// early (a refusal) cannot leave both sides waiting on full buffers.
	done := make(chan error, 1)
	go func() {
		w := bufio.NewWriterSize(c.conn, 64<<10)
		fmt.Fprintf(w, "%s APPEND %s", tag, quoteIMAP(folder))
		for _, m := range msgs {
			fmt.Fprintf(w, " {%d+}\r\n", len(m))
			w.Write(m)
		}
		w.WriteString("\r\n")
		done <- w.Flush()
	}()
	ok, err := c.tagged(tag)
	if werr := <-done; err == nil && werr != nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	return appendUIDs(ok, len(msgs))
}

// appendUIDs reads "[APPENDUID validity set]" from a tagged OK line and
// expands the set to n UIDs, in the order the messages were sent.
func appendUIDs(ok string, n int) ([]uint32, error) {
	_, code, found := strings.Cut(ok, "[APPENDUID ")
	code, _, _ = strings.Cut(code, "]")
	f := strings.Fields(code)
	if !found || len(f) != 2 {
		return nil, fmt.Errorf("no APPENDUID in %q", ok)
	}
	var uids []uint32
	for _, r := range strings.Split(f[1], ",") {
		lo, hi, isRange := strings.Cut(r, ":")
		a, err := strconv.ParseUint(lo, 10, 32)
		b := a
		if err == nil && isRange {
			b, err = strconv.ParseUint(hi, 10, 32)
		}
		if err != nil || b < a {
			return nil, fmt.Errorf("bad APPENDUID set in %q", ok)
		}
		for u := a; u <= b; u++ {
			uids = append(uids, uint32(u))
		}
	}
	if len(uids) != n {
		return nil, fmt.Errorf("APPENDUID names %d messages, %d were sent: %q", len(uids), n, ok)
	}
	return uids, nil
}

// quoteIMAP returns s as an IMAP quoted string.
func quoteIMAP(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
