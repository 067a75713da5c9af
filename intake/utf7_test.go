package intake

import "testing"

func TestDecodeUTF7(t *testing.T) {
	tests := []struct{ in, want, why string }{
		{"A+ImIDkQ.", "A\u2262\u0391.", "RFC 2152 section 3, first example"},
		{"Hi Mom -+Jjo--!", "Hi Mom -\u263a-!", "RFC 2152: a '-' ends the shifted sequence and is absorbed"},
		{"+ZeVnLIqe-", "日本語", "RFC 2152: Japanese for \"Japanese\""},
		{"1 +- 1 = 2", "1 + 1 = 2", "RFC 2152: '+-' is a plus sign"},
		{"+2D3eAQ-", "\U0001f601", "a surrogate pair across code units"},
		{"plain", "plain", "nothing shifted"},
		{"+AOk", "é", "a sequence that ends with the input"},
	}
	for _, tt := range tests {
		got, err := decodeUTF7(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: decodeUTF7(%q) = %q, %v; want %q", tt.why, tt.in, got, err, tt.want)
		}
	}
	if _, err := decodeUTF7("+AOl-"); err == nil {
		t.Error("leftover bits that are not zero: no error")
	}
}
