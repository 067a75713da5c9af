package main

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// The two mailboxes of every generated configuration.
const (
	feedbackAddr = "feedback@example.test"
	intelAddr    = "intel@example.test"
)

// hugeSize is the size of the one very large message of a corpus.
const hugeSize = 25 << 20

// corpus generates the messages of one run. Message i is a pure function
// of (seed, i), so nothing is kept in memory and any message can be
// generated again, e.g. to know its Message-ID.
type corpus struct {
	run  string // Message-ID prefix, unique per run
	seed uint64
	reps []rep
	// huge is the index of the 25 MB message, or -1 for none.
	huge int
	base time.Time // Date of message 0
}

// rep is one person of the generated roster.
type rep struct {
	name, email, team, manager string
}

// message is one generated mail.
type message struct {
	index int
	// id is the Message-ID without angle brackets.
	id string
	// mailboxes are the addresses the message is appended to.
	mailboxes []string
	// auto marks an out-of-office reply: earshot suppresses its ack.
	auto bool
	raw  []byte
}

// newCorpus prepares a corpus with a roster sized for n messages. The
// huge message is included when withHuge is set.
func newCorpus(run string, seed uint64, n int, withHuge bool) *corpus {
	c := &corpus{run: run, seed: seed, huge: -1, base: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	if withHuge && n > 0 {
		c.huge = n / 2
	}
	c.reps = roster(seed, max(50, n/20))
	return c
}

var (
	firstNames = [][2]string{{"Dana", "dana"}, {"Ravi", "ravi"}, {"Ana", "ana"}, {"Kim", "kim"}, {"José", "jose"},
		{"Zoë", "zoe"}, {"Björn", "bjorn"}, {"Renée", "renee"}, {"Chen", "chen"}, {"Olga", "olga"},
		{"Yuki", "yuki"}, {"Marcus", "marcus"}, {"Priya", "priya"}, {"Tomás", "tomas"}, {"Leah", "leah"}}
	lastNames = [][2]string{{"Whitfield", "whitfield"}, {"Patel", "patel"}, {"López", "lopez"}, {"Ng", "ng"},
		{"Müller", "muller"}, {"Ivanova", "ivanova"}, {"Tanaka", "tanaka"}, {"O'Brien", "obrien"},
		{"Nakamura", "nakamura"}, {"Svensson", "svensson"}, {"Okafor", "okafor"}, {"Dubois", "dubois"}}
	teams    = []string{"West", "East", "Central", "EMEA", "APAC"}
	managers = []string{"Morgan Lee", "Sam Ortiz", "Jordan Blake", "Avery Chen"}
)

// roster generates n reps with unique addresses.
func roster(seed uint64, n int) []rep {
	r := rand.New(rand.NewPCG(seed, 1<<62))
	out := make([]rep, n)
	for i := range out {
		f, l := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		out[i] = rep{
			name:    f[0] + " " + l[0],
			email:   fmt.Sprintf("%s.%s.%d@reps.example.test", f[1], l[1], i),
			team:    teams[i%len(teams)],
			manager: managers[i%len(managers)],
		}
	}
	return out
}

// rosterCSV renders the roster in the format of `earshot reps import`.
func (c *corpus) rosterCSV() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write([]string{"name", "emails", "phones", "team", "manager"}); err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	for i, p := range c.reps {
		phone := ""
		if i < 100 {
			phone = fmt.Sprintf("+1 415 555 01%02d", i)
		}
		if err := w.Write([]string{p.name, p.email, phone, p.team, p.manager}); err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// messageID returns the Message-ID of message i.
func (c *corpus) messageID(i int) string {
	return fmt.Sprintf("%s.%d@reps.example.test", c.run, i)
}

// shape is the MIME structure of a generated message.
type shape int

const (
	shapePlain       shape = iota // text/plain, 2–8 KB
	shapeAlternative              // text and HTML, 10–50 KB
	shapeAttachment               // text and a 200 KB–1 MB attachment
	shapeHuge                     // text and an attachment, 25 MB in all
)

// message generates message i. With ackable set, it is never an
// auto-reply and is addressed to one mailbox (latency probes).
func (c *corpus) message(i int, ackable bool) message {
	sp := c.spec(i, ackable)
	r, cs, mention, from, m := sp.r, sp.cs, sp.mention, sp.from, sp.message
	sh := shapePlain
	switch x := r.IntN(100); {
	case i == c.huge:
		sh = shapeHuge
	case x >= 95:
		sh = shapeAttachment
	case x >= 70:
		sh = shapeAlternative
	}
	subj := subject(r, cs.lang, mention)
	var h bytes.Buffer
	fmt.Fprintf(&h, "From: %s\r\n", from.String())
	fmt.Fprintf(&h, "To: %s\r\n", m.mailboxes[0])
	if len(m.mailboxes) > 1 {
		fmt.Fprintf(&h, "Cc: %s\r\n", m.mailboxes[1])
	}
	date := c.base.Add(time.Duration(i) * 37 * time.Second)
	fmt.Fprintf(&h, "Date: %s\r\nMessage-ID: <%s>\r\nMIME-Version: 1.0\r\n", date.Format(time.RFC1123Z), m.id)
	if m.auto {
		subj = "Automatic reply: " + subj
		h.WriteString("Auto-Submitted: auto-replied\r\nX-Autoreply: yes\r\n")
	}
	fmt.Fprintf(&h, "Subject: %s\r\n", encodeHeader(cs, subj))
	text := c.bodyText(r, cs.lang, sh, mention, from, m.auto)
	switch sh {
	case shapePlain:
		writeTextPart(&h, cs, text)
	case shapeAlternative:
		b := boundary(m.id, "alt")
		fmt.Fprintf(&h, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", b)
		fmt.Fprintf(&h, "--%s\r\n", b)
		writeTextPart(&h, cs, text)
		fmt.Fprintf(&h, "\r\n--%s\r\n", b)
		writeHTMLPart(&h, r, cs, text, 10<<10+r.IntN(40<<10))
		fmt.Fprintf(&h, "\r\n--%s--\r\n", b)
	default:
		size := 200<<10 + r.IntN(800<<10)
		if sh == shapeHuge {
			size = hugeSize - h.Len() - len(text) - 2048
		}
		b := boundary(m.id, "mixed")
		fmt.Fprintf(&h, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", b)
		fmt.Fprintf(&h, "--%s\r\n", b)
		writeTextPart(&h, cs, text)
		fmt.Fprintf(&h, "\r\n--%s\r\n", b)
		writeAttachment(&h, r, size)
		fmt.Fprintf(&h, "\r\n--%s--\r\n", b)
	}
	m.raw = h.Bytes()
	return m
}

// spec is what the first random draws of a message decide: cheap to
// compute for counting deliveries and auto-replies without rendering.
type spec struct {
	message
	r       *rand.Rand // positioned after the draws below
	cs      charset
	mention bool
	from    mail.Address
}

// spec draws message i's charset, mailboxes, sender and auto-reply flag.
func (c *corpus) spec(i int, ackable bool) spec {
	r := rand.New(rand.NewPCG(c.seed, uint64(i)))
	sp := spec{r: r, cs: pickCharset(r), mention: r.IntN(100) < 40}
	sp.message = message{index: i, id: c.messageID(i)}
	switch x := r.IntN(100); {
	case x < 55 || (ackable && i%2 == 0):
		sp.mailboxes = []string{feedbackAddr}
	case x < 90 || ackable:
		sp.mailboxes = []string{intelAddr}
	default:
		sp.mailboxes = []string{feedbackAddr, intelAddr}
	}
	sp.from = c.sender(r, i)
	sp.auto = !ackable && r.IntN(100) < 2
	return sp
}

// count returns how many distinct messages, mailbox deliveries and
// auto-replies the range [from, to) holds, without rendering it.
func (c *corpus) count(from, to int) (exp expected) {
	for i := from; i < to; i++ {
		sp := c.spec(i, false)
		exp.Items++
		exp.Receipts += int64(len(sp.mailboxes))
		if sp.auto {
			exp.Auto++
		}
	}
	return exp
}

// sender picks the From address: mostly roster reps (a few send a lot),
// sometimes an unregistered partner.
func (c *corpus) sender(r *rand.Rand, i int) mail.Address {
	if r.IntN(100) < 5 {
		return mail.Address{Name: "Chris Partner", Address: fmt.Sprintf("chris.%d@partner%d.example", i%97, i%7)}
	}
	u := r.Float64()
	p := c.reps[int(float64(len(c.reps))*u*u)]
	return mail.Address{Name: p.name, Address: p.email}
}

// bodyText writes the text of a message: the rep's words, sometimes a
// forwarded customer mail or a quoted reply, and a signature.
func (c *corpus) bodyText(r *rand.Rand, lang string, sh shape, mention bool, from mail.Address, auto bool) string {
	if auto {
		return "I am out of the office until Monday with limited access to email.\r\nFor urgent matters call the front desk."
	}
	size := 2<<10 + r.IntN(6<<10)
	if sh == shapeAlternative {
		size = 3<<10 + r.IntN(10<<10)
	}
	var parts []string
	for n := 0; n < size; {
		p := paragraph(r, lang, 300+r.IntN(600), mention)
		parts = append(parts, wrap(p, lang))
		n += len(p)
	}
	switch x := r.IntN(100); {
	case x < 5:
		parts = append(parts, "---------- Forwarded message ---------\r\nFrom: Buyer <buyer@customer.example>\r\n"+
			"Subject: Re: our renewal\r\nTo: "+from.Address+"\r\n\r\n"+wrap(paragraph(r, "en", 600, true), "en"))
	case x < 25:
		q := wrap(paragraph(r, "en", 400, false), "en")
		parts = append(parts, "On Mon, 2 Nov 2026 at 10:12, Buyer <buyer@customer.example> wrote:\r\n> "+
			strings.ReplaceAll(q, "\r\n", "\r\n> "))
	}
	if r.IntN(2) == 0 {
		parts = append(parts, "-- \r\n"+from.Name+"\r\nAccount Executive, Example Sales")
	}
	return strings.Join(parts, "\r\n\r\n")
}

// wrap breaks text into lines of about 72 columns (36 for Japanese, which
// has no spaces), joined by CRLF.
func wrap(s, lang string) string {
	if lang == "ja" {
		var b strings.Builder
		n := 0
		for _, ch := range s {
			b.WriteRune(ch)
			if n++; n%36 == 0 {
				b.WriteString("\r\n")
			}
		}
		return strings.TrimRight(b.String(), "\r\n")
	}
	var b strings.Builder
	col := 0
	for _, w := range strings.Fields(s) {
		n := utf8.RuneCountInString(w)
		if col > 0 && col+1+n > 72 {
			b.WriteString("\r\n")
			col = 0
		} else if col > 0 {
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}

// encodeHeader returns s for a header: as is when ASCII, else an RFC 2047
// encoded word in the message's charset.
func encodeHeader(cs charset, s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		ascii = ascii && s[i] < 0x80
	}
	if ascii {
		return s
	}
	enc := mime.QEncoding
	if cs.lang != "en" {
		enc = mime.BEncoding
	}
	return enc.Encode(cs.name, string(cs.encode(s)))
}

// boundary derives a MIME boundary from the message id.
func boundary(id, kind string) string {
	return "=_" + kind + "_" + strings.ReplaceAll(id, "@", ".")
}

// writeTextPart writes a text/plain part (headers and body) in the charset.
func writeTextPart(w *bytes.Buffer, cs charset, text string) {
	fmt.Fprintf(w, "Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n", cs.name, cs.cte)
	writeBody(w, cs.cte, cs.encode(text))
}

// writeHTMLPart writes a text/html rendering of text padded with a table
// of opportunities to about size bytes.
func writeHTMLPart(w *bytes.Buffer, r *rand.Rand, cs charset, text string, size int) {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><style>td{padding:2px 6px;border:1px solid #ccc}</style></head><body>\r\n")
	for _, p := range strings.Split(text, "\r\n\r\n") {
		b.WriteString("<p style=\"font-family:Arial,sans-serif;font-size:14px\">")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\r\n", "<br>\r\n"))
		b.WriteString("</p>\r\n")
	}
	b.WriteString("<table>\r\n")
	for row := 0; b.Len() < size; row++ {
		fmt.Fprintf(&b, "<tr><td>OPP-%05d</td><td>%s</td><td>%d seats</td><td>stage %d</td></tr>\r\n",
			r.IntN(99999), competitorNames[r.IntN(len(competitorNames))], 10+r.IntN(990), 1+row%5)
	}
	b.WriteString("</table></body></html>")
	fmt.Fprintf(w, "Content-Type: text/html; charset=%s\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", cs.name)
	writeBody(w, "quoted-printable", cs.encode(b.String()))
}

// writeAttachment writes a base64 PDF-like attachment of about size
// encoded bytes; its content is random, as compressed files are.
func writeAttachment(w *bytes.Buffer, r *rand.Rand, size int) {
	fmt.Fprintf(w, "Content-Type: application/pdf; name=\"quote-%d.pdf\"\r\n", r.IntN(10000))
	w.WriteString("Content-Disposition: attachment; filename=\"quote.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	data := make([]byte, max(1, size/78*57))
	for i := 0; i < len(data); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(data); j++ {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	writeBody(w, "base64", data)
}

// writeBody writes data in a transfer encoding with CRLF line endings.
func writeBody(w *bytes.Buffer, cte string, data []byte) {
	switch cte {
	case "base64":
		enc := base64.StdEncoding
		line := make([]byte, 76)
		for i := 0; i < len(data); i += 57 {
			chunk := data[i:min(i+57, len(data))]
			n := enc.EncodedLen(len(chunk))
			enc.Encode(line[:n], chunk)
			w.Write(line[:n])
			w.WriteString("\r\n")
		}
	case "quoted-printable":
		qp := quotedprintable.NewWriter(w)
		qp.Write(data)
		qp.Close()
		w.WriteString("\r\n")
	default:
		w.Write(data)
		w.WriteString("\r\n")
	}
}
