package model

import "testing"

func TestParseDecision(t *testing.T) {
	for _, c := range []struct {
		in   string
		want StatusChange
		bad  bool
	}{
		{in: "planned", want: StatusChange{Status: StatusPlanned}},
		{in: "Shipped: in 4.2", want: StatusChange{Status: StatusShipped, Note: "in 4.2"}},
		{in: "declined: already on the roadmap for Q3", want: StatusChange{Status: StatusDeclined, Note: "already on the roadmap for Q3"}},
		{in: "duplicate 1234", want: StatusChange{Status: StatusDuplicate, DuplicateOf: 1234}},
		{in: "duplicate of #77: same ask as Acme's", want: StatusChange{Status: StatusDuplicate, DuplicateOf: 77, Note: "same ask as Acme's"}},
		{in: "triaged", want: StatusChange{Status: StatusTriaged}},
		{in: "Thanks, will look", bad: true},
		{in: "new", bad: true},
		{in: "duplicate", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseDecision(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("ParseDecision(%q) = %+v, %v; want %+v (error %v)", c.in, got, err, c.want, c.bad)
		}
	}
}
