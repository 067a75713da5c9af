package outbound

import (
	"bufio"
	"bytes"
	"testing"
)

func TestCRLF(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "\r\n"},
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{"a\nb\n", "a\r\nb\r\n"},
		{"\n\n", "\r\n\r\n"},
		{"a\r\nb", "a\r\nb\r\n"},
		{"a\rb\r", "a\rb\r\n"},
		{"mixed\r\nbare\nend", "mixed\r\nbare\r\nend\r\n"},
	}
	for _, c := range cases {
		if got := string(crlf([]byte(c.in))); got != c.want {
			t.Errorf("crlf(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	in := []byte("already\r\nfine\r\n")
	if out := crlf(in); &out[0] != &in[0] {
		t.Error("crlf copied a body that needed nothing")
	}
}

func TestWriteDotted(t *testing.T) {
	cases := []struct{ in, want string }{
		{"\r\n", "\r\n.\r\n"},
		{".\r\n", "..\r\n.\r\n"},
		{"a\r\n.b\r\n..c\r\n", "a\r\n..b\r\n...c\r\n.\r\n"},
		{"a.b\r\n", "a.b\r\n.\r\n"},
		{"a\r.b\r\n", "a\r.b\r\n.\r\n"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		writeDotted(w, []byte(c.in))
		w.Flush()
		if buf.String() != c.want {
			t.Errorf("writeDotted(%q) = %q, want %q", c.in, buf.String(), c.want)
		}
	}
}

// dotted is DATA's form of body, a byte at a time: CRLF line endings,
// leading dots doubled, then the dot line.
func dotted(body []byte) []byte {
	var out []byte
	start := true
	for i, c := range body {
		if start && c == '.' {
			out = append(out, '.')
		}
		if c == '\n' && (i == 0 || body[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
		start = c == '\n'
	}
	switch {
	case len(out) == 0:
		out = append(out, '\r', '\n')
	case out[len(out)-1] == '\r':
		out = append(out, '\n')
	case !start:
		out = append(out, '\r', '\n')
	}
	return append(out, ".\r\n"...)
}

func FuzzDotted(f *testing.F) {
	for _, s := range []string{"", ".", "a\n.b", "\r\n..\r\n", "x\r", "\r\r\n.", "a\r.b\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		c := crlf(body)
		if !bytes.HasSuffix(c, []byte("\r\n")) || bytes.Count(c, []byte("\n")) != bytes.Count(c, []byte("\r\n")) {
			t.Fatalf("crlf(%q) = %q has a bare LF or no final CRLF", body, c)
		}
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		writeDotted(w, c)
		w.Flush()
		if want := dotted(body); !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("writeDotted(crlf(%q)) = %q, want %q", body, buf.Bytes(), want)
		}
	})
}
