package intake

import (
	"testing"

	"github.com/emersion/go-message"
)

func TestDecodeAddressList(t *testing.T) {
	tests := []struct {
		value, why string
		want       []Address
	}{
		{`purchasing@aquillaindustries.com <do-not-reply@ncs.gov.ng>`,
			"an address-shaped display name: the address in angle brackets is where mail goes (phishing seen in the wild)",
			[]Address{{Name: "purchasing@aquillaindustries.com", Addr: "do-not-reply@ncs.gov.ng"}}},
		{`"Sales" sales@vendor.example <orders@vendor.example>, bob@example.com`,
			"the angle address wins inside a list too",
			[]Address{{Name: "Sales sales@vendor.example", Addr: "orders@vendor.example"}, {Addr: "bob@example.com"}}},
		{`Mail Delivery Subsystem <MAILER-DAEMON>`, "a bracketed address without a domain (sendmail)",
			[]Address{{Name: "Mail Delivery Subsystem", Addr: "MAILER-DAEMON"}}},
		{`Moderator-Address <moderator>`, "a list moderator's address without a domain (held-message notices)",
			[]Address{{Name: "Moderator-Address", Addr: "moderator"}}},
		{`MAILER-DAEMON <>`, "an empty route address",
			[]Address{{Name: "MAILER-DAEMON"}}},
		{`Bob Rep bob.rep@sales.example.com [mailto:bob.rep@sales.example.com]`, "Outlook's [mailto:] form, no brackets",
			[]Address{{Name: "Bob Rep bob.rep@sales.example.com", Addr: "bob.rep@sales.example.com"}}},
		{`Ann <notes> ann@sales.example.com`, "a bracketed word that is no address does not hide the address",
			[]Address{{Name: "Ann notes", Addr: "ann@sales.example.com"}}},
		{`Pete(A wonderful \) chap) <pete(his account)@silly.test(his host)>`, "comments inside the address (RFC 2822 appendix A.5)",
			[]Address{{Name: `Pete(A wonderful \) chap)`, Addr: "pete@silly.test"}}},
		{`"=?Windows-1252?B?Rm9ybWHn428gRnJlbmV0aWtwb2xpcw==?=" <info@formacaofrenetik.info>`,
			"an encoded word inside quotes (mikel-mail error_emails/invalid_subject_characters.eml)",
			[]Address{{Name: "Formação Frenetikpolis", Addr: "info@formacaofrenetik.info"}}},
	}
	for _, tt := range tests {
		var h message.Header
		h.Set("From", tt.value)
		var w warnings
		got := decodeAddressList(h, "From", "", &w)
		if len(got) != len(tt.want) {
			t.Errorf("%s: %q -> %+v, want %+v", tt.why, tt.value, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: %q -> %+v, want %+v", tt.why, tt.value, got, tt.want)
			}
		}
	}
}
