package sign

import (
	"strings"
	"testing"
	"time"
)

func TestNoticeToken(t *testing.T) {
	s, other := New([]byte("0123456789abcdef0123456789abcdef")), New([]byte("another key of thirty-two bytes!"))
	id := s.NoticeMessageID(42, "billing-pm", "earshot.example.test")
	refs := NoticeRefs([]string{"unrelated@example.test", "<" + id + ">"})
	if len(refs) != 1 || refs[0].Item != 42 || !s.ValidNotice(refs[0], "billing-pm") {
		t.Fatalf("refs of %q = %+v", id, refs)
	}
	if s.ValidNotice(refs[0], "ci-lead") || other.ValidNotice(refs[0], "billing-pm") {
		t.Error("the token is valid for another owner or under another key")
	}
	forged := NoticeRef{Item: 43, Token: refs[0].Token}
	if s.ValidNotice(forged, "billing-pm") {
		t.Error("a token is valid for another item")
	}
	tag := s.NoticeReplyTo("decisions@example.test", 42, "billing-pm")
	if got := NoticeTags([]string{tag}); len(got) != 1 || !s.ValidNotice(got[0], "billing-pm") {
		t.Errorf("tags of %q = %+v", tag, got)
	}
}

func TestRepLink(t *testing.T) {
	s := New([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tok := s.RepLink(7, now, now.Add(24*time.Hour))
	rep, issued, err := s.CheckRepLink(tok, now.Add(time.Hour))
	if err != nil || rep != 7 || !issued.Equal(now) {
		t.Fatalf("check = %d %v %v", rep, issued, err)
	}
	if _, _, err := s.CheckRepLink(tok, now.Add(25*time.Hour)); err != ErrExpiredLink {
		t.Errorf("a day later: %v; want expired", err)
	}
	forged := "8" + strings.TrimPrefix(tok, "7")
	for _, bad := range []string{forged, "", "a.b.c.d", tok + "x", "7.1.9999999999.AAAA"} {
		if _, _, err := s.CheckRepLink(bad, now); err != ErrBadLink {
			t.Errorf("%q: %v; want bad link", bad, err)
		}
	}
}
