package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFile writes a test input and returns its path.
func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mail(headers, body string) string {
	return strings.ReplaceAll("From: Dana Rep <dana@example.com>\nDate: Mon, 7 Dec 2026 09:00:00 +0000\n"+
		"Message-ID: <t-1@example.com>\nContent-Type: text/plain; charset=utf-8\n"+headers+"\n"+body, "\n", "\r\n")
}

// TestRouteTestJSON runs `earshot route test -json` against the shipped example configuration on the cases
// `route test` used to get wrong: an out-of-office reply shown with tags and owners, a hang-up voicemail given
// to the root owner, a competitor named only in a reply's subject made intel.
func TestRouteTestJSON(t *testing.T) {
	cfg := filepath.Join("..", "..", "earshot.example.yaml")
	cases := []struct {
		why        string
		args       []string
		kind       string
		routed     bool
		categories []string
		owners     []string
		note       string
	}{
		{"an auto-reply is stored, never tagged or routed (RFC 3834 Auto-Submitted)",
			[]string{writeFile(t, "ooo.eml", mail("To: intel@example.com\nSubject: Automatic reply: Acme pricing\nAuto-Submitted: auto-replied\n",
				"I am out of the office. For Acme billing questions contact the team.\n"))},
			"email", false, nil, nil, "does not tag, route or acknowledge it"},
		{"a voicemail without a category goes to nobody (labelled set vm-callback)",
			[]string{"-transcript", writeFile(t, "vm.txt", "hey it's dev call me back when you get a sec\n")},
			"voicemail", true, nil, nil, "assigned to nobody"},
		{"a competitor only in a reply's subject is not intel",
			[]string{writeFile(t, "re.eml", mail("To: feedback@example.com\nSubject: Re: Acme comparison deck?\n",
				"Sent it over this morning.\n\nOn Fri, Kim wrote:\n> Do you have the Acme comparison deck handy?\n"))},
			"email", true, []string{"feedback"}, []string{"product-ops"}, ""},
		{"a voicemail naming the competitor as heard is intel for its owner",
			[]string{"-transcript", writeFile(t, "vm2.txt", "this is dana in boston at me is offering big discounts to our billing customers\n")},
			"voicemail", true, []string{"intel"}, []string{"ci-lead", "billing-pm"}, ""},
	}
	for _, c := range cases {
		code, out, stderr := runCmd(t, append([]string{"route", "-c", cfg, "test", "-json"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.why, code, stderr)
		}
		var rep routeReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%s: %v in %s", c.why, err, out)
		}
		var cats, owners []string
		for _, tg := range rep.Tags {
			if tg.Kind == "category" {
				cats = append(cats, tg.Value)
			}
		}
		for _, a := range rep.Assigned {
			owners = append(owners, a.Owner)
		}
		if rep.Kind != c.kind || rep.Routed != c.routed || !slices.Equal(cats, c.categories) || !slices.Equal(owners, c.owners) ||
			!strings.Contains(rep.Note, c.note) {
			t.Errorf("%s:\n%s", c.why, out)
		}
		if !rep.Routed && (len(rep.Tags) > 0 || len(rep.Assigned) > 0) {
			t.Errorf("%s: not routed, yet tags or owners are shown", c.why)
		}
	}
}

// TestRouteTestText checks the plain output of an auto-reply and the usage errors.
func TestRouteTestText(t *testing.T) {
	cfg := filepath.Join("..", "..", "earshot.example.yaml")
	ooo := writeFile(t, "ooo.eml", mail("To: intel@example.com\nSubject: Out of office\nAuto-Submitted: auto-replied\n", "Away. Acme questions to Kim.\n"))
	code, out, _ := runCmd(t, "route", "-c", cfg, "test", ooo)
	want := "auto-generated (auto-submitted: auto-replied): earshot stores it but does not tag, route or acknowledge it\n" +
		"tags:\n  (none)\nassigned to:\n  (nobody)\n"
	if code != 0 || out != want {
		t.Errorf("exit %d, output\n%s\nwant\n%s", code, out, want)
	}
	for _, args := range [][]string{
		{"test"},
		{"test", "-text", "x", "-transcript", "f.txt"},
		{"test", "-transcript", "f.txt", "-mailbox", "intel"},
		{"test", "a.eml", "b.eml"},
	} {
		if code, _, stderr := runCmd(t, append([]string{"route", "-c", cfg}, args...)...); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
}

// TestCheckConfigOwners: check-config says what owners named on products and competitors receive.
func TestCheckConfigOwners(t *testing.T) {
	code, out, stderr := runCmd(t, "check-config", "-c", filepath.Join("..", "..", "earshot.example.yaml"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{
		"# routing: products[0].owner: billing-pm receives every item about Billing, feedback and intel alike",
		"# routing: competitors[0].owner: ci-lead receives every item naming Acme",
		"an item without one goes to nobody unless a route matches it",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("check-config output lacks %q", w)
		}
	}
}
