package outbound

import "testing"

func TestQueueID(t *testing.T) {
	cases := []struct{ answer, want string }{
		{"2.0.0 Ok: queued as 4XyZ1AbC", "4XyZ1AbC"},                       // Postfix
		{"Ok: queued as G5vPo8yGDuv2Te5tzXr9dZ", "G5vPo8yGDuv2Te5tzXr9dZ"}, // Mailpit
		{"OK id=1tYk2a-000Abc-3x", "1tYk2a-000Abc-3x"},                     // Exim
		{"2.0.0 OK  1709500000 x12si345.67 - gsmtp", ""},                   // Gmail gives no id
	}
	for _, c := range cases {
		if got := queueID(c.answer); got != c.want {
			t.Errorf("queueID(%q) = %q, want %q", c.answer, got, c.want)
		}
	}
}

func TestHeaderMessageID(t *testing.T) {
	raw := []byte("Subject: x\r\nMessage-Id: <a.b@earshot.example>\r\n\r\nMessage-Id: <body@x>\r\n")
	if got := headerMessageID(raw); got != "a.b@earshot.example" {
		t.Errorf("headerMessageID = %q", got)
	}
}
