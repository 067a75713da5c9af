package outbound_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/model"
)

// A tag's evidence holds every place a phrase occurs; the notice names
// each phrase once, in its first spelling, in both of its parts.
func TestNoticeNamesEachPhraseOnce(t *testing.T) {
	ct := contribution(unique())
	ev := func(phrases ...string) []model.Evidence {
		var out []model.Evidence
		for i, p := range phrases {
			out = append(out, model.Evidence{Phrase: p, Field: "text", Offset: 10 * i})
		}
		return out
	}
	ct.Tags = []model.Tag{
		{Kind: "category", Value: "intel"},
		{Kind: "competitor", Value: "Acme", Evidence: ev("Acme", "AcmeCloud", "Acme", "acme", "Acme\n Corp", "Acme Corp")},
		{Kind: "topic", Value: "bug", Evidence: ev("bug", "bug", "Bug", "bug")},
	}
	msg, err := composer(t, config.SMTP{Host: "127.0.0.1", Port: 25, TLS: "none", From: "Earshot <earshot@example.test>",
		Hostname: "earshot.example.test"}).
		Notice(ct, config.Owner{Name: "ci-lead", Email: "ci@example.test"}, "")
	if err != nil {
		t.Fatal(err)
	}
	parts := textParts(t, msg.Body)
	for typ, want := range map[string][]string{
		"text/plain": {`Acme ("Acme", "AcmeCloud", "Acme Corp")`, `bug ("bug")`},
		"text/html":  {"“Acme”, “AcmeCloud”, “Acme Corp”</td>", "<strong>bug</strong> “bug”</td>"},
	} {
		for _, w := range want {
			if !strings.Contains(parts[typ], w) {
				t.Errorf("%s part lacks %q:\n%s", typ, w, parts[typ])
			}
		}
	}
}

// textParts decodes the text parts of a message, by media type.
func textParts(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		h, ok := p.Header.(*mail.InlineHeader)
		if !ok {
			continue
		}
		typ, _, _ := h.ContentType()
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		out[typ] = string(b)
	}
}
