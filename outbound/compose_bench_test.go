package outbound_test

import (
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/config"
)

// BenchmarkCompose renders what completion renders for an intel item: the
// rep's ack and an owner notice, with default templates and a rep's text
// of about 3 KB.
func BenchmarkCompose(b *testing.B) {
	c := composer(b, config.SMTP{Host: "127.0.0.1", Port: 25, TLS: "none", From: "Earshot <earshot@example.test>",
		Hostname: "earshot.example.test"})
	ct := contribution("bench")
	ct.Text = strings.Repeat("Acme offered 40% off the renewal if they switch before the quarter ends. ", 40)
	ct.Item.Raw = []byte(string(ct.Item.Raw) + strings.Repeat(ct.Text+"\r\n", 10))
	owner := config.Owner{Name: "ci-lead", Email: "ci@example.test"}
	b.Run("ack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.AckEmail(ct, ct.From.Addr); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("notice", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Notice(ct, owner, ct.From.Addr); err != nil {
				b.Fatal(err)
			}
		}
	})
}
