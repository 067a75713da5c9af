package auth

import (
	"context"
	"strings"
	"testing"
)

func TestSpamVerdict(t *testing.T) {
	cases := []struct {
		header string
		origin string
		spam   bool
		reason string
	}{
		{"X-Spam-Flag: YES\n", "SpamAssassin, add_header all Flag", true, "X-Spam-Flag: YES"},
		{"x-spam-flag: yes\n", "field names and values ignore case", true, "x-spam-flag: yes"},
		{"X-Spam-Flag: NO\n", "SpamAssassin's negative verdict", false, ""},
		{"X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,URIBL_BLACK\n", "SpamAssassin, add_header all Status", true, "X-Spam-Status: Yes, score=7.3 required=5.0 tests=BAYES_99,URIBL_BLACK"},
		{"X-Spam-Status: No, score=-0.1 required=5.0\n", "SpamAssassin's negative verdict", false, ""},
		{"X-Spam-Status: Yes score=7.3\n", "a verdict without the comma", true, "X-Spam-Status: Yes score=7.3"},
		{"X-Spam-Status: Yesterday\n", "only the word yes counts", false, ""},
		{"X-Spam-Action: reject\n", "rspamd milter headers, extended_spam_headers", true, "X-Spam-Action: reject"},
		{"X-Spam-Action: add header\n", "rspamd", true, "X-Spam-Action: add header"},
		{"X-Spam-Action: rewrite subject\n", "rspamd", true, "X-Spam-Action: rewrite subject"},
		{"X-Spam-Action: soft reject\n", "rspamd", true, "X-Spam-Action: soft reject"},
		{"X-Spam-Action: no action\n", "rspamd's negative verdict", false, ""},
		{"X-Spam-Action: greylist\n", "rspamd: greylisting is not a spam verdict", false, ""},
		{"X-Spam-Flag: NO\nX-Spam-Status: No, score=0\nX-Spam-Flag: YES\n", "a forged no above a yes changes nothing", true, "X-Spam-Flag: YES"},
		{"X-Spam-Status: Yes, score=12.0 required=5.0 tests=" + strings.Repeat("RULE_NAME,", 20) + "\n", "a long rule list is cut short", true, "X-Spam-Status: Yes, score=12.0 required=5.0 tests=RULE_NAME,RULE_NAME,RULE_NAME,RULE_NAME,RULE_…"},
	}
	v := newVerifier(t, Options{Require: RequireNone})
	for _, tc := range cases {
		res, err := v.Verify(context.Background(), prepend(tc.header, message("rep@example.com", "hi", "hello\n")))
		if err != nil {
			t.Fatal(err)
		}
		if res.Spam != tc.spam || res.SpamReason != tc.reason {
			t.Errorf("%s: %q: Spam %v, reason %q; want %v, %q", tc.origin, tc.header, res.Spam, res.SpamReason, tc.spam, tc.reason)
		}
	}
}

func TestSpamVerdictWithoutFrom(t *testing.T) {
	// Spam is reported even when the sender cannot be verified at all.
	res, err := newVerifier(t, Options{}).Verify(context.Background(), crlf("X-Spam-Flag: YES\nSubject: win\n\nbuy\n"))
	if err != nil || !res.Spam || res.Verified {
		t.Fatalf("Verify: %+v, %v; want spam and not verified", res, err)
	}
}
