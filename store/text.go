package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/earshot-dev/earshot/model"
)

// cleanText returns s as text PostgreSQL stores: valid UTF-8 (invalid
// bytes become U+FFFD) without NUL, which no text column accepts. Text
// reaches the store from mail nobody here wrote, so every text a write
// binds goes through it (or cleanJSON); SQLite gets the same values.
func cleanText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// An item's body is stored once: where it is the start of the item's full
// text, as it mostly is (the rep's words before a quote or signature),
// the row keeps its length in characters (body_len) and an empty
// body_text; otherwise body_text holds it and body_len is null. These read
// it from a row of items, and of items aliased i.
const (
	bodyTextCol  = `coalesce(substr(full_text, 1, body_len), body_text)`
	bodyTextOfI  = `coalesce(substr(i.full_text, 1, i.body_len), i.body_text)`
	noBodyLength = -1
)

// storedBody returns what an item's row keeps of body, given its full
// text: nothing and body's length in characters when full starts with
// it, else body itself and noBodyLength (stored as null).
func storedBody(body, full string) (string, int) {
	if strings.HasPrefix(full, body) {
		return "", utf8.RuneCountInString(body)
	}
	return body, noBodyLength
}

// cleanTexts returns a copy of list with every string cleaned.
func cleanTexts(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = cleanText(s)
	}
	return out
}

// cutText returns at most max bytes of s, cut at a character boundary.
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// cleanJSON returns doc, a JSON document, with every string in it
// cleaned: jsonb refuses the escape \u0000 as well as invalid UTF-8. A
// document that needs nothing is returned as it is, without decoding.
func cleanJSON(doc string) (string, error) {
	if utf8.ValidString(doc) && !strings.Contains(doc, `\u0000`) {
		return doc, nil
	}
	var v any
	if err := json.Unmarshal([]byte(strings.ToValidUTF8(doc, "\uFFFD")), &v); err != nil {
		return "", fmt.Errorf("clean json: %w", err)
	}
	b, err := json.Marshal(cleanValue(v))
	if err != nil {
		return "", fmt.Errorf("clean json: %w", err)
	}
	return string(b), nil
}

// cleanValue cleans the strings (keys too) of a decoded JSON value.
func cleanValue(v any) any {
	switch x := v.(type) {
	case string:
		return cleanText(x)
	case []any:
		for i := range x {
			x[i] = cleanValue(x[i])
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[cleanText(k)] = cleanValue(e)
		}
		return out
	}
	return v
}

// cleanProcessed returns p with every text it binds cleaned; p's slices
// are copied, not changed. JSON columns are cleaned by jsonText.
func cleanProcessed(p model.Processed) model.Processed {
	p.Sender, p.Subject, p.AutoReason = cleanText(p.Sender), cleanText(p.Subject), cleanText(p.AutoReason)
	p.BodyText, p.FullText, p.TrustReason = cleanText(p.BodyText), cleanText(p.FullText), cleanText(p.TrustReason)
	p.Warnings = cleanTexts(p.Warnings)
	tags := make([]model.Tag, len(p.Tags))
	for i, t := range p.Tags {
		t.Value, t.Origin = cleanText(t.Value), cleanText(t.Origin)
		tags[i] = t
	}
	p.Tags = tags
	as := make([]model.Assignment, len(p.Assignments))
	for i, a := range p.Assignments {
		a.Owner, a.Route = cleanText(a.Owner), cleanText(a.Route)
		as[i] = a
	}
	p.Assignments = as
	out := make([]model.OutboxMessage, len(p.Outbox))
	for i, m := range p.Outbox {
		m.Recipient, m.RecipientKey = cleanText(m.Recipient), cleanText(m.RecipientKey)
		m.Subject, m.Reason, m.Owner = cleanText(m.Subject), cleanText(m.Reason), cleanText(m.Owner)
		out[i] = m
	}
	p.Outbox = out
	if p.AckCap != nil {
		c := *p.AckCap
		c.Recipient = cleanText(c.Recipient)
		p.AckCap = &c
	}
	return p
}
