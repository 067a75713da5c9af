package templates

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendering (run with -update if the change is intended)\n--- got:\n%s", path, got)
	}
}

// TestGoldenDefaults renders every default template with its sample data.
func TestGoldenDefaults(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range s.Names() {
		r, err := s.Render(name, Sample(name))
		if err != nil {
			t.Fatal(err)
		}
		text := r.Text
		if r.Subject != "" {
			text = "Subject: " + r.Subject + "\n\n" + text
		}
		golden(t, name+".txt", text)
		if r.HTML != "" {
			golden(t, name+".html", r.HTML)
		}
	}
	// The branches of the points block the samples do not take.
	waiting := Sample("ack_intel")
	waiting.Rep = Rep{Name: "Lee Park", FirstName: "Lee", Address: "lee@example.com"}
	waiting.Points = Points{Awarded: 5, Lines: waiting.Points.Lines[:1], Waiting: true, Month: "March 2026"}
	withheld := Sample("ack_feedback")
	withheld.Points = Points{Withheld: "duplicate of item 4199", Month: "March 2026"}
	// A voicemail whose transcript may be wrong: the owner is asked to listen.
	listen := Sample("notice")
	listen.Item = sampleFeedback()
	listen.Item.Unreliable = "8000 Hz audio; the recogniser's model expects 16000 Hz"
	for name, render := range map[string]func(Data) (Rendered, error){"notice_listen": s.Notice, "digest_listen": s.Digest} {
		d := listen
		if name == "digest_listen" {
			d = Sample("digest")
			d.Items = []Item{listen.Item}
		}
		r, err := render(d)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".txt", r.Text)
		golden(t, name+".html", r.HTML)
	}
	for name, d := range map[string]Data{"ack_intel_waiting": waiting, "ack_feedback_withheld": withheld} {
		r, err := s.Ack(d)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, name+".txt", r.Text)
		golden(t, name+".html", r.HTML)
		sms, err := s.SMS(d)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "sms_"+name+".sms", sms+"\n")
	}
	for _, category := range []string{"intel", "feedback", "both"} {
		d := Sample("ack_" + category)
		sms, err := s.SMS(d)
		if err != nil {
			t.Fatal(err)
		}
		if n := CountSegments(sms); n.Encoding != GSM7 || n.Count > MaxSMSSegments {
			t.Errorf("sms for %s: %+v, want GSM-7 within %d segments", category, n, MaxSMSSegments)
		}
		golden(t, "sms_ack_"+category+".sms", sms+"\n")
	}
	// The SMS of a rep whose name and subject need more than GSM and
	// more than two segments.
	d := Sample("ack_intel")
	d.Rep.FirstName = "Zoë"
	d.Points.Goals = append(d.Points.Goals,
		Goal{Name: "product insight “worth sharing” — with many words to push the text over two segments", Done: 2, Target: 5},
		Goal{Name: "another goal with a long name that keeps going and going", Done: 0, Target: 3},
		Goal{Name: "and a third goal so that the text cannot fit", Done: 1, Target: 4})
	sms, err := s.SMS(d)
	if err != nil {
		t.Fatal(err)
	}
	if n := CountSegments(sms); n.Encoding != GSM7 || n.Count != MaxSMSSegments || !strings.HasSuffix(sms, "...") {
		t.Errorf("long sms: %+v, %q; want GSM-7 cut to %d segments", n, sms, MaxSMSSegments)
	}
	golden(t, "sms_ack_long.sms", sms+"\n")
}

// TestGoldenAckEmail builds a whole ack and compares it with the Message-ID
// and MIME boundaries made stable.
func TestGoldenAckEmail(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	d := Sample("ack_intel")
	r, err := s.Ack(d)
	if err != nil {
		t.Fatal(err)
	}
	raw, id, err := BuildEmail(Envelope{
		From:          &mail.Address{Name: "Earshot", Address: "intel@example.com"},
		To:            []*mail.Address{{Name: d.Rep.Name, Address: d.Rep.Address}},
		Subject:       ReplySubject("RE: Re: " + d.Item.Subject),
		InReplyTo:     []string{"CAF1x=orig@mail.example.com"},
		References:    []string{"thread-start@mail.example.com", "CAF1x=orig@mail.example.com"},
		AutoSubmitted: AutoReplied,
		Date:          time.Date(2026, 3, 3, 9, 42, 0, 0, time.FixedZone("PST", -8*3600)),
		Hostname:      "earshot.example.com",
	}, r)
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(string(raw), id, "ID@earshot.example.com")
	for _, b := range regexp.MustCompile(`boundary=([0-9a-f]+)`).FindAllStringSubmatch(out, -1) {
		out = strings.ReplaceAll(out, b[1], "BOUNDARY")
	}
	golden(t, "ack_intel.eml", strings.ReplaceAll(out, "\r\n", "\n"))
}
