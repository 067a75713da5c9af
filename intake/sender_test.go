package intake

import "testing"

func TestSenderAddress(t *testing.T) {
	cases := []struct{ raw, want string }{
		{"From: Dana Reyes <Dana.Reyes+Intel@Example.TEST>\r\nSubject: x\r\n\r\nbody\r\n", "dana.reyes@example.test"},
		{"Subject: no sender\r\n\r\nbody\r\n", ""},
		{"\r\n\r\nFrom: <a@b.test>\r\n\r\nleading blank lines\r\n", "a@b.test"},
		{"From: =?utf-8?q?R=C3=A9my?= <remy@example.test>, other@example.test\r\n\r\n", "remy@example.test"},
		{"From: broken <<x@y.test\r\n\r\n", FoldAddress(NormalizeBytes([]byte("From: broken <<x@y.test\r\n\r\n"), nil).From.Addr)},
		{"no header at all", ""},
	}
	for _, c := range cases {
		if got := SenderAddress([]byte(c.raw)); got != c.want {
			t.Errorf("SenderAddress(%q) = %q, want %q", c.raw, got, c.want)
		}
	}
}

// Over the corpora, the header alone names the sender Normalize finds.
func TestSenderAddressCorpus(t *testing.T) {
	msgs := normalizeCorpus(t)
	differ := 0
	for _, cm := range msgs {
		if got, want := SenderAddress(cm.raw), FoldAddress(cm.m.From.Addr); got != want {
			differ++
			t.Logf("%s: %q from the header, %q normalized", cm.rel, got, want)
		}
	}
	if differ > 0 {
		t.Errorf("%d of %d corpus messages name another sender from the header alone", differ, len(msgs))
	}
}
