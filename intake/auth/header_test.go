package auth

import (
	"reflect"
	"testing"
)

func TestSplitHeader(t *testing.T) {
	cases := []struct {
		origin   string
		raw      string
		fields   []field
		complete bool
	}{
		{"RFC 5322 section 2.2.3 (folding), CRLF", "Subject: one\r\n two\r\nFrom: a@b.example\r\n\r\nbody\r\nX-Not: header\r\n",
			[]field{{"Subject", " one two"}, {"From", " a@b.example"}}, true},
		{"LF line endings as stored by a Unix mailbox", "Subject: one\n\ttwo\nFrom:a@b.example\n\nbody\n",
			[]field{{"Subject", " one\ttwo"}, {"From", "a@b.example"}}, true},
		{"mbox From_ line and garbage are skipped", "From a@b.example Mon Jan  1 00:00:00 2024\nnot a field\nTo: c@d.example\n\n",
			[]field{{"To", " c@d.example"}}, true},
		{"RFC 5322 section 4.5.1 (obsolete space before the colon)", "From : a@b.example\n\n",
			[]field{{"From", " a@b.example"}}, true},
		{"header without a body", "Subject: x\r\nFrom: a@b.example",
			[]field{{"Subject", " x"}, {"From", " a@b.example"}}, false},
	}
	for _, tc := range cases {
		fields, complete := splitHeader([]byte(tc.raw))
		if !reflect.DeepEqual(fields, tc.fields) || complete != tc.complete {
			t.Errorf("%s: got %q, %v; want %q, %v", tc.origin, fields, complete, tc.fields, tc.complete)
		}
	}
}

func TestNeutralize(t *testing.T) {
	cases := []struct{ origin, in, want string }{
		{"RFC 8601 appendix B.4 (comments)", "example.com; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a@example.com",
			"example.com; spf=pass   smtp.mailfrom=a@example.com"},
		{"RFC 5322 section 3.2.2 (nested comments, quoted pairs)", "a (x (y) \\) z) b", "a   b"},
		{"RFC 5322 section 3.2.4 (quoted strings)", `reason="bad; sig=1" header.d=x`, `reason="bad__sig_1" header.d=x`},
		{"quoted pair inside a quoted string", `a="x\"; y"`, `a="x"__y"`},
		{"RFC 5322 section 3.4.1 (domain literals)", "header.from=[a; dmarc=pass]", "header.from=[a__dmarc_pass]"},
		{"an unterminated comment drops the rest", "a (b; c=d", "a "},
	}
	for _, tc := range cases {
		if got := neutralize(tc.in); got != tc.want {
			t.Errorf("%s: neutralize(%q) = %q, want %q", tc.origin, tc.in, got, tc.want)
		}
	}
}

func TestFromAddress(t *testing.T) {
	cases := []struct {
		origin, from          string
		addr, domain, problem string
	}{
		{"RFC 5322 name-addr", "Rep <Rep@Example.COM>", "Rep@Example.COM", "example.com", ""},
		{"RFC 2047 display name in an unknown charset", "=?x-unknown?q?R=E9p?= <rep@example.com>", "rep@example.com", "example.com", ""},
		{"RFC 6532 internationalized domain", "rep@bücher.example", "rep@bücher.example", "xn--bcher-kva.example", ""},
		{"RFC 5322 group with no address", "undisclosed-recipients:;", "", "", "no From address"},
		{"unparseable", "rep at example.com", "", "", "From address could not be read"},
	}
	for _, tc := range cases {
		fields, _ := splitHeader([]byte("From: " + tc.from + "\r\n\r\n"))
		addr, domain, problem := fromAddress(fields)
		if addr != tc.addr || domain != tc.domain || problem != tc.problem {
			t.Errorf("%s: %q gives %q, %q, %q; want %q, %q, %q", tc.origin, tc.from, addr, domain, problem, tc.addr, tc.domain, tc.problem)
		}
	}
}
