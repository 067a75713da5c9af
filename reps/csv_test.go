package reps

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	f, err := os.Open("testdata/reps.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	reps, err := ParseCSV(f, "US")
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 4 {
		t.Fatalf("got %d reps", len(reps))
	}
	dana := reps[0]
	if want := []string{"dana.whitfield@example.com", "dana@example.com"}; !reflect.DeepEqual(dana.Emails, want) {
		t.Errorf("emails folded = %v, want %v", dana.Emails, want)
	}
	if want := []string{"+14155550134"}; !reflect.DeepEqual(dana.Phones, want) {
		t.Errorf("US phone = %v, want %v", dana.Phones, want)
	}
	if reps[1].Phones[0] != "+442079460958" || reps[2].Name != "Lopez, Ana" || reps[3].Line != 5 {
		t.Errorf("rows = %+v", reps)
	}
	// A Slack-only rep needs no address or number.
	if want := []string{"U0KIMNG01", "W0KIMNG02"}; !reflect.DeepEqual(reps[3].Slack, want) || len(reps[3].Emails) != 0 {
		t.Errorf("slack users = %v, want %v", reps[3].Slack, want)
	}
}

func TestParseCSVErrors(t *testing.T) {
	cases := []struct{ name, csv, want string }{
		{"bad phone names its line", "name,phones\nA,123\nB,+1 415 555 0100\nC,not a phone\n", "line 2: phone \"123\""},
		{"every bad line is reported", "name,phones\nA,123\nB,+1 415 555 0100\nC,not a phone\n", "line 4:"},
		{"bad email", "name,emails\nA,not-an-address\n", "line 2: email"},
		{"no contact", "name,emails,phones,slack\nA,,,\n", "line 2: A has no email, no phone and no slack user"},
		{"slack user that is a name", "name,slack\nA,@dana\n", "line 2: slack \"@dana\": want a Slack user ID"},
		{"same slack user twice", "name,slack\nA,U0123ABCD\nB,U0123ABCD\n", "line 3: U0123ABCD is also on line 2"},
		{"same address twice", "name,emails\nA,a@example.com\nB,A@example.com\n", "line 3: a@example.com is also on line 2"},
		{"unknown column", "name,email\nA,a@example.com\n", "unknown column \"email\""},
		{"empty file", "", "roster is empty"},
		{"ragged quotes", "name,emails\n\"A,a@example.com\n", "extraneous"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reps, err := ParseCSV(strings.NewReader(tc.csv), "US")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if reps != nil {
				t.Fatalf("a bad roster must import nothing, got %d reps", len(reps))
			}
		})
	}
}
