package templates

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

func TestOverrideDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("ack_intel.txt.tmpl", "Merci {{.Rep.FirstName}}: {{plural .Points.Awarded \"point\" \"points\"}}.\n")
	write("sms_ack_intel.txt.tmpl", "Intel noted, {{.Rep.FirstName}}.")
	write("README.md", "not a template")
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Ack(Sample("ack_intel"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "Merci Dana: 7 points.\n" {
		t.Errorf("overridden text = %q", r.Text)
	}
	if !strings.Contains(r.HTML, "Thanks, Dana!") {
		t.Errorf("the HTML default is kept when only the text is overridden: %q", r.HTML)
	}
	if r, _ := s.Ack(Sample("ack_feedback")); !strings.HasPrefix(r.Text, "Thanks, Dana!") {
		t.Errorf("other defaults are kept: %q", r.Text)
	}
	if sms, _ := s.SMS(Sample("ack_intel")); sms != "Intel noted, Dana." {
		t.Errorf("a category variant of the SMS replaces sms_ack for that category: %q", sms)
	}
	if sms, _ := s.SMS(Sample("ack_feedback")); !strings.HasPrefix(sms, "Earshot: thanks Dana") {
		t.Errorf("other categories keep sms_ack: %q", sms)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	cases := []struct {
		name, file, text, want string
	}{
		{"a parse error", "notice.txt.tmpl", "{{if .Rep.Name}}unclosed", "notice.txt.tmpl"},
		{"an unknown field, found by the sample run", "ack_both.html.tmpl", "<p>{{.Rep.Nickname}}</p>", "ack_both.html.tmpl"},
		{"an unknown function", "digest.txt.tmpl", "{{shout .Period}}", "digest.txt.tmpl"},
		{"a broken shared file", "_partials.txt.tmpl", "{{define \"points\"}}", "_partials.txt.tmpl"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, c.file), []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, c.want)) {
			t.Errorf("%s: err = %v, want it to name %s", c.name, err, filepath.Join(dir, c.want))
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing override directory was accepted")
	}
}

func TestReplySubject(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Acme pricing", "Re: Acme pricing"},
		{"Re: Acme pricing", "Re: Acme pricing"},
		{"Re: Re: Acme pricing", "Re: Acme pricing"},
		{"RE: re:Acme pricing", "Re: Acme pricing"},
		{"Re[2]: Acme pricing", "Re: Acme pricing"},
		{"Fwd: Acme pricing", "Re: Fwd: Acme pricing"},
		{"Re: Fwd: Re: Acme pricing", "Re: Fwd: Re: Acme pricing"},
		{"Regarding Acme", "Re: Regarding Acme"},
		{"", "Re:"},
	}
	for _, c := range cases {
		if got := ReplySubject(c.in); got != c.want {
			t.Errorf("ReplySubject(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCountSegments(t *testing.T) {
	cases := []struct {
		name  string
		text  string
		enc   string
		units int
		count int
	}{
		{"empty", "", GSM7, 0, 0},
		{"160 GSM characters fit one segment", strings.Repeat("a", 160), GSM7, 160, 1},
		{"161 need two of 153", strings.Repeat("a", 161), GSM7, 161, 2},
		{"306 fill two", strings.Repeat("a", 306), GSM7, 306, 2},
		{"307 need three", strings.Repeat("a", 307), GSM7, 307, 3},
		{"extension characters take two septets", strings.Repeat("€", 80), GSM7, 160, 1},
		{"an escape sequence is not split across segments", strings.Repeat("a", 152) + "{" + strings.Repeat("a", 152), GSM7, 306, 3},
		{"GSM accents stay GSM", "é è ü Ñ", GSM7, 7, 1},
		{"one non-GSM character makes it UCS-2", "naïve", UCS2, 5, 1},
		{"70 UCS-2 units fit one segment", strings.Repeat("ï", 70), UCS2, 70, 1},
		{"71 need two of 67", strings.Repeat("ï", 71), UCS2, 71, 2},
		{"an emoji is two UTF-16 units", "ok 👍", UCS2, 5, 1},
	}
	for _, c := range cases {
		got := CountSegments(c.text)
		if got.Encoding != c.enc || got.Units != c.units || got.Count != c.count {
			t.Errorf("%s: %+v, want %s %d units %d segments", c.name, got, c.enc, c.units, c.count)
		}
	}
}

func TestToGSM(t *testing.T) {
	cases := []struct{ in, want string }{
		{"It’s “fine” – really…", `It's "fine" - really...`},
		{"Zoë Çelik, naïve café", "Zoe Çelik, naive café"},
		{"tab\tand\u00a0nbsp", "tab and nbsp"},
		{"thumbs 👍", "thumbs 👍"},
	}
	for _, c := range cases {
		if got := ToGSM(c.in); got != c.want {
			t.Errorf("ToGSM(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// What cannot become GSM is counted honestly as UCS-2.
	if fit := FitSMS("thumbs 👍 "+strings.Repeat("word ", 40), 2); CountSegments(fit).Encoding != UCS2 || CountSegments(fit).Count > 2 {
		t.Errorf("UCS-2 text not fitted: %+v", CountSegments(fit))
	}
}

func TestBuildEmail(t *testing.T) {
	orig := []byte("From: Dana <dana@example.com>\r\nSubject: Acme\r\nMessage-ID: <o1@example.com>\r\n\r\nAcme is cheaper.\r\n")
	raw, id, err := BuildEmail(Envelope{
		From:          &mail.Address{Name: "Earshot", Address: "earshot@example.com"},
		To:            []*mail.Address{{Name: "CI lead", Address: "ci@example.com"}},
		ReplyTo:       []*mail.Address{{Name: "Dana", Address: "dana@example.com"}},
		Subject:       "[Earshot] Intel from Dana: Acme",
		AutoSubmitted: AutoGenerated,
		Date:          time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC),
		Hostname:      "earshot.example.com",
	}, Rendered{Text: "text body\n", HTML: "<p>html body</p>"}, Attachment{ContentType: "message/rfc822", Filename: "original.eml", Data: orig})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(id, "@earshot.example.com") {
		t.Errorf("message id %q does not use the configured hostname", id)
	}
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	h := mr.Header
	if got := h.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if rt, _ := h.AddressList("Reply-To"); len(rt) != 1 || rt[0].Address != "dana@example.com" {
		t.Errorf("Reply-To = %v", rt)
	}
	if got, _ := h.MessageID(); got != id {
		t.Errorf("Message-ID header %q, returned %q", got, id)
	}
	var parts []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p.Body)
		switch ph := p.Header.(type) {
		case *mail.InlineHeader:
			ct, _, _ := ph.ContentType()
			parts = append(parts, ct+":"+strings.TrimSpace(string(body)))
		case *mail.AttachmentHeader:
			ct, _, _ := ph.ContentType()
			name, _ := ph.Filename()
			parts = append(parts, ct+":"+name)
			if !bytes.Equal(body, orig) || ph.Get("Content-Transfer-Encoding") != "8bit" {
				t.Errorf("attached original changed or encoded: %q (%s)", body, ph.Get("Content-Transfer-Encoding"))
			}
		}
	}
	want := "text/plain:text body|text/html:<p>html body</p>|message/rfc822:original.eml"
	if got := strings.Join(parts, "|"); got != want {
		t.Errorf("parts = %s\nwant %s", got, want)
	}
	if _, _, err := BuildEmail(Envelope{To: []*mail.Address{{Address: "a@b"}}, AutoSubmitted: AutoReplied}, Rendered{}); err == nil {
		t.Error("an email without From was built")
	}
	if _, _, err := BuildEmail(Envelope{From: &mail.Address{Address: "a@b"}, To: []*mail.Address{{Address: "a@b"}}}, Rendered{}); err == nil {
		t.Error("an email without Auto-Submitted was built")
	}
}

// Each text part goes in the encoding that suits it, and reads back as
// it was written, line breaks as CRLF.
func TestBuildEmailTextEncodings(t *testing.T) {
	long := strings.Repeat("a", 999)
	// back is what the text reads back as, where not the text with CRLF
	// line breaks: quoted-printable takes a bare CR for a line break.
	for _, c := range []struct{ name, text, enc, back string }{
		{"ascii", "Thanks, Dana!\nYou earned 7 points = a lot.\n\tIndented.\n", "7bit", ""},
		{"ascii, longest line", strings.Repeat("b", 998) + "\nend", "7bit", ""},
		{"ascii, a line too long", long + "\nend", "quoted-printable", ""},
		{"ascii, CRLF line breaks", "one\r\ntwo\r\n", "7bit", "one\r\ntwo\r\n"},
		{"ascii, a bare CR", "one\rtwo\n", "quoted-printable", "one\r\ntwo\r\n"},
		{"ascii, a NUL", "one\x00two", "quoted-printable", ""},
		{"latin", "Merci, Zoé ! Vous avez gagné 7 points.\n", "quoted-printable", ""},
		{"japanese", "代理店の話ではAcmeは障害のせいで商談を失いました。\n", "base64", ""},
		{"empty", "", "7bit", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, _, err := BuildEmail(Envelope{
				From: &mail.Address{Address: "earshot@example.com"}, To: []*mail.Address{{Address: "dana@example.com"}},
				Subject: "s", AutoSubmitted: AutoReplied, Hostname: "earshot.example.com",
			}, Rendered{Text: c.text, HTML: c.text})
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range bytes.SplitAfter(raw, []byte("\n")) {
				if len(line) > 1000 || (len(line) > 0 && line[len(line)-1] == '\n' && !bytes.HasSuffix(line, []byte("\r\n"))) {
					t.Errorf("line %d is not fit for SMTP: %d octets, %q", i+1, len(line), line[max(0, len(line)-20):])
				}
			}
			mr, err := mail.CreateReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			want := c.back
			if want == "" {
				want = c.text
				if c.enc != "base64" {
					want = strings.ReplaceAll(want, "\n", "\r\n")
				}
			}
			for i := 0; ; i++ {
				p, err := mr.NextPart()
				if err == io.EOF {
					// No HTML part for an empty HTML.
					if n := 1 + min(len(c.text), 1); i != n {
						t.Errorf("%d parts, want %d", i, n)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if enc := p.Header.Get("Content-Transfer-Encoding"); enc != c.enc {
					t.Errorf("part %d: Content-Transfer-Encoding %s, want %s", i+1, enc, c.enc)
				}
				body, err := io.ReadAll(p.Body)
				if err != nil {
					t.Fatal(err)
				}
				if string(body) != want {
					t.Errorf("part %d reads back as %q, want %q", i+1, body, want)
				}
			}
		})
	}
}

func TestPreview(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range PreviewKinds() {
		var b bytes.Buffer
		if err := Preview(&b, s, kind, SampleFor(kind)); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if b.Len() == 0 {
			t.Errorf("%s: empty preview", kind)
		}
	}
	var b bytes.Buffer
	if err := Preview(&b, s, "ack", SampleFor("ack")); err != nil || !strings.HasPrefix(b.String(), "Subject: Re: Acme undercutting us at Globex\n") {
		t.Errorf("ack preview = %q, %v", b.String()[:min(80, b.Len())], err)
	}
	if err := Preview(&b, s, "fax", Data{}); err == nil {
		t.Error("unknown kind accepted")
	}
}

// noticeEnvelope is the envelope and text of a small owner notice.
func noticeEnvelope() (Envelope, Rendered) {
	return Envelope{
		From:          &mail.Address{Address: "earshot@example.com"},
		To:            []*mail.Address{{Address: "ci@example.com"}},
		Subject:       "notice",
		AutoSubmitted: AutoGenerated,
		Date:          time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC),
		MessageID:     "n1@earshot.example.com",
	}, Rendered{Text: "text body\n", HTML: "<p>html</p>"}
}

// A message built with its attachment deferred, once spliced, is the
// message built with the attachment in place, byte for byte but for the
// random MIME boundaries: for an original kept 8bit, one with a line too
// long for SMTP (base64), one with bare LFs, and other attachments.
func TestSpliceDeferred(t *testing.T) {
	long := "X-Long: " + strings.Repeat("a", 1200) + "\r\n"
	env, r := noticeEnvelope()
	for _, c := range []struct {
		name, typ string
		data      []byte
		enc       string
	}{
		{"an original kept as it is", "message/rfc822", []byte("Subject: Acme\r\n\r\nAcme is cheaper.\r\n"), "8bit"},
		{"an original with a long line", "message/rfc822", []byte("Subject: Acme\r\n" + long + "\r\nbody\r\n"), "base64"},
		{"an original with bare line feeds", "message/rfc822", []byte("Subject: Acme\n\nline one\nline two\n"), "8bit"},
		{"an empty original", "message/rfc822", nil, "8bit"},
		{"a binary file", "application/octet-stream", bytes.Repeat([]byte{0, 1, 2, 0xff}, 300), "base64"},
	} {
		whole, _, err := BuildEmail(env, r, Attachment{ContentType: c.typ, Filename: "f", Data: c.data})
		if err != nil {
			t.Fatal(err)
		}
		kept, _, gap, err := BuildEmailDeferred(env, r, Attachment{ContentType: c.typ, Filename: "f", Data: c.data, Deferred: true})
		if err != nil {
			t.Fatal(err)
		}
		if gap.At <= 0 || gap.Encoding != c.enc {
			t.Errorf("%s: gap %+v; want one, encoded %s", c.name, gap, c.enc)
		}
		if len(c.data) > 0 && bytes.Contains(kept, c.data[:min(len(c.data), 12)]) {
			t.Errorf("%s: the stored message carries the deferred data", c.name)
		}
		spliced, err := Splice(kept, gap, c.data)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := sameBoundaries(whole), sameBoundaries(spliced); a != b {
			t.Errorf("%s: spliced message differs from the whole one:\n%s\n---\n%s", c.name, b, a)
		}
	}
	if _, _, err := BuildEmail(env, r, Attachment{ContentType: "message/rfc822", Deferred: true}); err == nil {
		t.Error("BuildEmail dropped a deferred attachment's data without saying where it goes")
	}
	if _, err := Splice([]byte("short"), Gap{At: 99, Encoding: "8bit"}, []byte("x")); err == nil {
		t.Error("a gap past the message's end was spliced")
	}
	if got, err := Splice([]byte("as is"), Gap{}, []byte("x")); err != nil || string(got) != "as is" {
		t.Errorf("a message without a gap became %q %v", got, err)
	}
}

// sameBoundaries names a message's MIME boundaries b0, b1, … in the order
// they are declared, so two builds of one message compare equal.
func sameBoundaries(msg []byte) string {
	s := string(msg)
	var names []string
	for rest := s; ; {
		_, after, ok := strings.Cut(rest, "boundary=")
		if !ok {
			break
		}
		b := strings.Trim(strings.FieldsFunc(after, func(r rune) bool { return r == ';' || r == '\r' || r == '\n' })[0], `"`)
		names, rest = append(names, b), after
	}
	for i, b := range names {
		s = strings.ReplaceAll(s, b, fmt.Sprintf("<boundary %d>", i))
	}
	return s
}

// Splice writes 7bit, 8bit and base64 parts itself; each must come out
// exactly as go-message's part writer writes it, for line breaks of
// every kind, lines at and around the 998-octet limit (with a CR at the
// limit), and lengths around base64's 57-octet lines.
func TestSpliceEncodingsMatchGoMessage(t *testing.T) {
	viaGoMessage := func(enc string, data []byte) []byte {
		var h message.Header
		h.Set("Content-Transfer-Encoding", enc)
		var b bytes.Buffer
		w, err := message.CreateWriter(&b, h)
		if err != nil {
			t.Fatal(err)
		}
		head := b.Len()
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()[head:]
	}
	var inputs [][]byte
	for _, n := range []int{0, 1, 56, 57, 58, 113, 114, 115, 996, 997, 998, 999, 1000, 1001, 1996, 1997, 1998, 1999, 2000, 3000} {
		for _, tail := range []string{"", "\n", "\r\n", "\r", "\r\r\n", "x\n"} {
			line := append(bytes.Repeat([]byte("a"), n), tail...)
			inputs = append(inputs, line, append(append([]byte{}, line...), line...))
			if n >= 2 {
				cr := append([]byte{}, line...)
				cr[n-1] = '\r' // a CR at the limit when n is 999
				inputs = append(inputs, cr, append(cr, "b\r\nc"...))
			}
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab\r\n\x00\xff")
	for range 300 {
		b := make([]byte, rnd.IntN(5000))
		for i := range b {
			if rnd.IntN(200) == 0 {
				b[i] = alphabet[2+rnd.IntN(2)]
			} else {
				b[i] = alphabet[rnd.IntN(len(alphabet))]
			}
		}
		inputs = append(inputs, b)
	}
	msg := []byte("head\r\n\r\n|tail")
	for _, enc := range []string{"7bit", "8bit", "base64", "BASE64", "quoted-printable"} {
		for _, in := range inputs {
			got, err := Splice(msg, Gap{At: 8, Encoding: enc}, in)
			if err != nil {
				t.Fatal(err)
			}
			want := append(append([]byte("head\r\n\r\n"), viaGoMessage(enc, in)...), "|tail"...)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, %d-byte input %q…: spliced differs from go-message's part\n got %q\nwant %q",
					enc, len(in), in[:min(len(in), 40)], got[max(0, len(got)-80):], want[max(0, len(want)-80):])
			}
		}
	}
}
