package intake

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// normalizeFile runs a testdata message through Normalize.
func normalizeFile(t *testing.T, name string) *Message {
	t.Helper()
	m, err := Normalize(bytes.NewReader(readTestdata(t, name)), nil)
	if err != nil {
		t.Fatalf("Normalize(%s): %v", name, err)
	}
	return m
}

// hasWarning reports whether some warning contains sub.
func hasWarning(m *Message, sub string) bool {
	for _, w := range m.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestNormalizeQuotesAndSignatures(t *testing.T) {
	tests := []struct {
		file, why     string
		text          string // exact Text
		quotedHas     string
		signature     string // exact Signature
		noForwards    bool
		notInText     string
		wantWarnFree  bool
		inReplyTo     string
		referencesLen int
	}{
		{
			file: "quote-gmail.eml", why: "gmail attribution wrapped over two lines, > quotes, '-- ' signature",
			text:      "Dana says Acme offered them 20% off to switch before March.",
			quotedHas: "> Acme is very aggressive right now.",
			signature: "-- \nBob Rep | Account Executive\n+1 415 555 0199",
			notInText: "wrote:", wantWarnFree: true,
			inReplyTo: "orig-1@customer.example", referencesLen: 2,
		},
		{
			file: "quote-outlook.eml", why: "outlook underscore rule and From/Sent/To/Subject block on a RE: reply",
			text:      "They keep asking for SSO in the basic plan.",
			quotedHas: "Our security team insists on it.",
			notInText: "Sent:", noForwards: true, wantWarnFree: true,
		},
		{
			file: "quote-apple.eml", why: "apple mail: 'Sent from my iPhone' then a >-quoted attribution",
			text:      "The demo crashed twice on the export screen, customer was not happy.",
			quotedHas: "> How did the demo go?",
			signature: "Sent from my iPhone", wantWarnFree: true,
		},
		{
			file: "quote-original-message.eml", why: "outlook -----Original Message----- on a RE: subject is a reply, not a forward",
			text:      "Customer wants monthly billing instead of annual.",
			quotedHas: "Can we pay monthly?", noForwards: true, wantWarnFree: true,
		},
		{
			file: "quote-interleaved.eml", why: "answers written between > quotes stay, the quotes go",
			text:      "Yes, for two years now.\nSupport takes a week to answer.",
			quotedHas: "> Why are they unhappy?", wantWarnFree: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := normalizeFile(t, tt.file)
			if m.Text != tt.text {
				t.Errorf("%s: Text = %q, want %q", tt.why, m.Text, tt.text)
			}
			if !strings.Contains(m.Quoted, tt.quotedHas) {
				t.Errorf("%s: Quoted = %q, want it to contain %q", tt.why, m.Quoted, tt.quotedHas)
			}
			if m.Signature != tt.signature {
				t.Errorf("%s: Signature = %q, want %q", tt.why, m.Signature, tt.signature)
			}
			if tt.noForwards && len(m.Forwarded) != 0 {
				t.Errorf("%s: got %d forwards, want none", tt.why, len(m.Forwarded))
			}
			if tt.notInText != "" && strings.Contains(m.Text, tt.notInText) {
				t.Errorf("%s: Text contains %q", tt.why, tt.notInText)
			}
			if !strings.Contains(m.FullText, tt.quotedHas) || !strings.Contains(m.FullText, tt.text[:20]) {
				t.Errorf("%s: FullText lacks part of the body: %q", tt.why, m.FullText)
			}
			if tt.wantWarnFree && len(m.Warnings) > 0 {
				t.Errorf("%s: unexpected warnings %q", tt.why, m.Warnings)
			}
			if tt.inReplyTo != "" && (len(m.InReplyTo) != 1 || m.InReplyTo[0] != tt.inReplyTo) {
				t.Errorf("InReplyTo = %q, want [%q]", m.InReplyTo, tt.inReplyTo)
			}
			if len(m.References) != tt.referencesLen {
				t.Errorf("References = %q, want %d ids", m.References, tt.referencesLen)
			}
		})
	}
}

func TestNormalizeForwards(t *testing.T) {
	jan5 := func(h, m int, loc *time.Location) time.Time { return time.Date(2026, 1, 5, h, m, 0, 0, loc) }
	pst := time.FixedZone("PST", -8*3600)
	tests := []struct {
		file, why string
		text      string
		want      []Forward // Text is matched as a substring
		dateZone  bool      // compare dates as instants (zone known)
	}{
		{
			file: "fwd-gmail.eml", why: "gmail inline forward with *bold* sender name",
			text: "FYI, competitor pricing from a prospect.",
			want: []Forward{{From: Address{"Carol Prospect", "carol@prospect.example"}, Date: jan5(10, 0, time.UTC), Subject: "Acme pricing", Text: "Acme quoted us $40 per seat per month."}},
		},
		{
			file: "fwd-apple.eml", why: "apple mail 'Begin forwarded message:' with a PST date",
			text:     "Another vote for offline mode.",
			want:     []Forward{{From: Address{"Carol Prospect", "carol@prospect.example"}, Date: jan5(10, 0, pst), Subject: "Feature request", Text: "We really need offline mode for our field teams."}},
			dateZone: true,
		},
		{
			file: "fwd-outlook.eml", why: "outlook -----Original Message----- on a FW: subject, [mailto:] sender",
			text: "Legal wants the DPA changed, see below.",
			want: []Forward{{From: Address{"Carol Prospect", "carol@prospect.example"}, Date: jan5(10, 0, time.UTC), Subject: "Contract", Text: "Please send the DPA with EU data residency."}},
		},
		{
			file: "fwd-thunderbird-double.eml", why: "thunderbird forward followed by a gmail forward: two entries",
			text: "Two complaints in one go.",
			want: []Forward{
				{From: Address{"Carol Prospect", "carol@prospect.example"}, Date: time.Date(2026, 1, 5, 10, 0, 0, 0, time.FixedZone("", 3600)), Subject: "First complaint", Text: "The mobile app logs us out every hour."},
				{From: Address{"Dave Buyer", "dave@buyer.example"}, Date: time.Date(2026, 1, 4, 9, 30, 0, 0, time.UTC), Subject: "Second complaint", Text: "Reports are too slow."},
			},
			dateZone: true,
		},
		{
			file: "fwd-rfc822.eml", why: "message/rfc822 attachment",
			text:     "We lost this one to Acme, see the attached mail.",
			want:     []Forward{{From: Address{"Carol Prospect", "carol@prospect.example"}, Date: jan5(10, 0, time.UTC), Subject: "Lost deal", Text: "We decided to go with Acme, they were cheaper."}},
			dateZone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := normalizeFile(t, tt.file)
			if m.Text != tt.text {
				t.Errorf("%s: Text = %q, want %q", tt.why, m.Text, tt.text)
			}
			if len(m.Forwarded) != len(tt.want) {
				t.Fatalf("%s: got %d forwards %+v, want %d", tt.why, len(m.Forwarded), m.Forwarded, len(tt.want))
			}
			for i, want := range tt.want {
				got := m.Forwarded[i]
				if got.From != want.From || got.Subject != want.Subject {
					t.Errorf("%s: forward %d = %+v / %q, want %+v / %q", tt.why, i, got.From, got.Subject, want.From, want.Subject)
				}
				sameDate := got.Date.Equal(want.Date)
				if !tt.dateZone { // client-local dates carry no zone: compare the wall clock
					sameDate = got.Date.Format(time.DateTime) == want.Date.Format(time.DateTime)
				}
				if !sameDate {
					t.Errorf("%s: forward %d date = %v, want %v", tt.why, i, got.Date, want.Date)
				}
				if !strings.Contains(got.Text, want.Text) {
					t.Errorf("%s: forward %d text = %q, want it to contain %q", tt.why, i, got.Text, want.Text)
				}
				if strings.Contains(m.Text, want.Text) {
					t.Errorf("%s: forwarded text leaked into Text %q", tt.why, m.Text)
				}
			}
		})
	}
}

func TestNormalizeHTMLOnly(t *testing.T) {
	m := normalizeFile(t, "html-only.eml")
	want := "Onboarding took 3 weeks & they wanted 1.\n\nThey compared us to Acme."
	if m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
	for _, leak := range []string{"Ignored title", "color: red", "<div", "How is onboarding going?"} {
		if strings.Contains(m.Text, leak) {
			t.Errorf("Text contains %q: %q", leak, m.Text)
		}
	}
	if !strings.Contains(m.Quoted, "How is onboarding going?") {
		t.Errorf("Quoted = %q, want the blockquoted question", m.Quoted)
	}
}

func TestNormalizeVoicemail(t *testing.T) {
	tests := []struct {
		file, why string
		caller    string
		audio     bool
		filename  string
	}{
		{"voicemail-subject.eml", "number in the subject after 'Voicemail from', audio/wav part", "+1 415 555 0100", true, "msg0001.wav"},
		{"voicemail-body.eml", "number after 'Caller:' in the body; octet-stream recognised by .WAV extension; dates ignored", "(415) 555-0100", true, "MSG0002.WAV"},
		{"no-voicemail-number.eml", "a number in the subject of mail without audio is not a caller", "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := normalizeFile(t, tt.file)
			if m.CallerNumber != tt.caller {
				t.Errorf("%s: CallerNumber = %q, want %q", tt.why, m.CallerNumber, tt.caller)
			}
			if m.HasAudio() != tt.audio {
				t.Fatalf("%s: HasAudio = %v, want %v (%+v)", tt.why, m.HasAudio(), tt.audio, m.Attachments)
			}
			if !tt.audio {
				return
			}
			a := m.Attachments[0]
			if a.Filename != tt.filename || int64(len(a.Data)) != a.Size || !bytes.HasPrefix(a.Data, []byte("RIFF")) {
				t.Errorf("%s: attachment %q size %d data %d bytes, want %q with its RIFF data", tt.why, a.Filename, a.Size, len(a.Data), tt.filename)
			}
		})
	}
}

func TestNormalizeAudioLimit(t *testing.T) {
	raw := readTestdata(t, "voicemail-subject.eml")
	m, err := Normalize(bytes.NewReader(raw), &Options{MaxAudioBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Data != nil || m.Attachments[0].Size <= 100 {
		t.Fatalf("attachments = %+v, want one audio attachment over the limit without data", m.Attachments)
	}
	if !hasWarning(m, "over the 100 byte limit") {
		t.Errorf("warnings = %q, want the size limit named", m.Warnings)
	}
}

func TestNormalizeMalformed(t *testing.T) {
	tests := []struct {
		file, why   string
		subject     string
		textHas     string
		warnings    []string
		attachments int
	}{
		{"unknown-charset.eml", "unknown charset in subject and body: raw kept with warnings",
			"=?x-unknown?Q?Caf=E9_pricing?=", "Acme is cheaper, they said.", []string{"subject: unknown charset", "body: unknown charset"}, 0},
		{"unknown-encoding.eml", "'7-bit' text and x-uuencode attachment are kept undecoded",
			"Attachment in uuencode", "Notes from the call are attached.", []string{`part 1: encoding error: unhandled encoding "7-bit"`, `part 2: encoding error: unhandled encoding "x-uuencode"`}, 1},
		{"bad-boundary.eml", "boundary never used: the body is read as text",
			"Broken multipart", "The customer asked about the API rate limits.", []string{"mime structure broken"}, 0},
		{"missing-closing-boundary.eml", "truncated multipart keeps the parts read so far",
			"Truncated multipart", "Second part is cut off", []string{"mime structure broken"}, 0},
		{"no-header.eml", "no header at all: plain text",
			"", "Acme came up twice today.", []string{"no header found"}, 0},
		{"bad-header-line.eml", "mbox From line and a field name with a space are dropped",
			"mbox line and a broken header", "Body survives.", []string{"malformed header repaired (2 lines dropped)"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := normalizeFile(t, tt.file)
			if m.Subject != tt.subject {
				t.Errorf("%s: Subject = %q, want %q", tt.why, m.Subject, tt.subject)
			}
			if !strings.Contains(m.Text, tt.textHas) {
				t.Errorf("%s: Text = %q, want it to contain %q", tt.why, m.Text, tt.textHas)
			}
			for _, w := range tt.warnings {
				if !hasWarning(m, w) {
					t.Errorf("%s: warnings %q lack %q", tt.why, m.Warnings, w)
				}
			}
			if len(m.Attachments) != tt.attachments {
				t.Errorf("%s: %d attachments, want %d", tt.why, len(m.Attachments), tt.attachments)
			}
		})
	}
}

func TestNormalizeHeaders(t *testing.T) {
	m := normalizeFile(t, "quote-gmail.eml")
	want := Address{Name: "Bob Rep", Addr: "bob.rep+feedback@sales.example.com"}
	if m.From != want {
		t.Errorf("From = %+v, want %+v", m.From, want)
	}
	if len(m.To) != 1 || m.To[0].Addr != "feedback@earshot.example.com" {
		t.Errorf("To = %+v", m.To)
	}
	if m.MessageID != "q-gmail@sales.example.com" {
		t.Errorf("MessageID = %q", m.MessageID)
	}
	if wantDate := time.Date(2026, 1, 6, 17, 15, 0, 0, time.UTC); !m.Date.Equal(wantDate) {
		t.Errorf("Date = %v, want %v", m.Date, wantDate)
	}
}

// failingReader fails on the first read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestNormalizeReadError(t *testing.T) {
	if _, err := Normalize(failingReader{}, nil); err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("Normalize(failing reader) error = %v, want the read error wrapped", err)
	}
}

func TestNormalizeHeaderLimit(t *testing.T) {
	raw := "X-Padding: " + strings.Repeat("x", 2048) + "\r\nSubject: big\r\n\r\nAcme again.\r\n"
	m, err := Normalize(strings.NewReader(raw), &Options{MaxHeaderBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if !hasWarning(m, "unreadable header") || !strings.Contains(m.FullText, "Acme again.") {
		t.Errorf("header over the limit: warnings %q, text %q; want a warning and the raw kept as text", m.Warnings, m.FullText)
	}
	m, err = Normalize(strings.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "big" || m.Text != "Acme again." {
		t.Errorf("default limit: subject %q text %q", m.Subject, m.Text)
	}
}
