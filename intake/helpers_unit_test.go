package intake

import (
	"strings"
	"testing"
	"time"
)

func TestCallerNumber(t *testing.T) {
	tests := []struct{ subject, body, want, why string }{
		{"Voicemail from +1 415 555 0100", "", "+1 415 555 0100", "subject label"},
		{"New voicemail", "Caller: (415) 555-0100\nDuration: 00:32", "(415) 555-0100", "body label, time ignored"},
		{"New voicemail", "Caller ID: 4155550100", "4155550100", "caller id label"},
		{"Message from 415.555.0100 (Bob)", "", "415.555.0100", "trailing comment"},
		{"New voicemail (0:32)", "Received 2026-01-06 09:14\nCall back +44 20 7946 0958", "+44 20 7946 0958", "bare number, date skipped"},
		{"New voicemail", "Duration 32 seconds", "", "too few digits"},
		{"New voicemail", "Reference 1234567890123456789", "", "too many digits"},
	}
	for _, tt := range tests {
		if got := callerNumber(tt.subject, tt.body); got != tt.want {
			t.Errorf("%s: callerNumber(%q, %q) = %q, want %q", tt.why, tt.subject, tt.body, got, tt.want)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		why  string
	}{
		{"Tue, 06 Jan 2026 09:15:00 -0800", time.Date(2026, 1, 6, 17, 15, 0, 0, time.UTC), "RFC 5322"},
		{"Tue, 6 Jan 2026 09:15:00 -0800 (PST)", time.Date(2026, 1, 6, 17, 15, 0, 0, time.UTC), "trailing zone comment"},
		{"Tue Jan  6 09:15:00 2026", time.Date(2026, 1, 6, 9, 15, 0, 0, time.UTC), "asctime"},
		{"January 6, 2026 at 9:15:00 AM PST", time.Date(2026, 1, 6, 17, 15, 0, 0, time.UTC), "apple mail forward"},
		{"Tue, Jan 6, 2026 at 9:15\u202fAM", time.Date(2026, 1, 6, 9, 15, 0, 0, time.UTC), "gmail forward, narrow no-break space"},
		{"Tuesday, January 6, 2026 9:15 AM", time.Date(2026, 1, 6, 9, 15, 0, 0, time.UTC), "outlook forward"},
	}
	for _, tt := range tests {
		got, ok := parseDate(tt.in)
		if !ok || !got.Equal(tt.want) {
			t.Errorf("%s: parseDate(%q) = %v, %v; want %v", tt.why, tt.in, got, ok, tt.want)
		}
	}
	for _, bad := range []string{"", "yesterday", "32 Foo 2026", strings.Repeat("1", 300)} {
		if _, ok := parseDate(bad); ok {
			t.Errorf("parseDate(%q) succeeded", bad)
		}
	}
}

func TestUnflow(t *testing.T) {
	tests := []struct {
		in    string
		delsp bool
		want  string
		why   string
	}{
		{"Acme is \ncheaper.\nNext line.", false, "Acme is cheaper.\nNext line.", "RFC 3676 soft break"},
		{"Ac\ncme", false, "Ac\ncme", "hard break stays"},
		{"Acme is \ncheaper.", true, "Acme ischeaper.", "delsp=yes removes the space"},
		{"> quoted \n> more\nown", false, "> quoted more\nown", "quote depth kept"},
		{"text\n-- \nBob", false, "text\n-- \nBob", "signature separator is not flowed"},
		{"> a \nb", false, "> a \nb", "a soft break before a depth change does not join"},
	}
	for _, tt := range tests {
		if got := unflow(tt.in, tt.delsp); got != tt.want {
			t.Errorf("%s: unflow(%q) = %q, want %q", tt.why, tt.in, got, tt.want)
		}
	}
}

func TestRepairHeader(t *testing.T) {
	tests := []struct {
		in, want string
		dropped  int
		why      string
	}{
		{" From: a@b\nSubject: x\n\nbody", "From: a@b\nSubject: x\n\nbody", 0, "leading space on the first line (enmime bad-header-start)"},
		{"From a@b Tue Jan  6 09:15:00 2026\nSubject: x\n\nbody", "Subject: x\n\nbody", 1, "mbox separator"},
		{"Subject: x\nX-Bad Key: y\n\nbody", "Subject: x\n\nbody", 1, "invalid field name"},
		{"Subject: x\nthis is the body\nsecond line", "Subject: x\n\r\nthis is the body\nsecond line", 0, "body with no blank line"},
		{"Subject: x", "Subject: x\r\n\r\n", 0, "header only, no line ending"},
	}
	for _, tt := range tests {
		got, dropped := repairHeader([]byte(tt.in))
		if string(got) != tt.want || dropped != tt.dropped {
			t.Errorf("%s: repairHeader(%q) = %q, %d; want %q, %d", tt.why, tt.in, got, dropped, tt.want, tt.dropped)
		}
	}
	if got, _ := repairHeader([]byte("just text\nmore text")); got != nil {
		t.Errorf("repairHeader(text) = %q, want nil", got)
	}
}

func TestHTMLToText(t *testing.T) {
	tests := []struct{ in, want, why string }{
		{"<div>line one</div><div>line two</div>", "line one\nline two", "divs are lines"},
		{"<table><tr><td>a</td><td>b</td></tr></table>", "a b", "cells are separated"},
		{"<TITLE>t</TITLE><P>x &amp; y</P>", "x & y", "title dropped, upper case tags"},
		{"<style>p{}</style><script>x()</script>text", "text", "style and script dropped"},
		{`<a href="https://example.com">site</a>`, "site <https://example.com>", "link text kept with its target"},
		{strings.Repeat("<blockquote>", 5000) + "deep", "deep", "deep nesting"},
		{"<title>never closed", "", "unclosed title"},
	}
	for _, tt := range tests {
		if got := htmlToText(tt.in); got != tt.want {
			t.Errorf("%s: htmlToText(%.40q) = %q, want %q", tt.why, tt.in, got, tt.want)
		}
	}
}
