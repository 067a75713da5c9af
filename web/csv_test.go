package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/store"
)

func TestCSVText(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"formula", `=HYPERLINK("http://evil.example","x")`, `'=HYPERLINK("http://evil.example","x")`},
		{"plus", "+1+2", "'+1+2"},
		{"minus", "-2+3", "'-2+3"},
		{"at sign (Lotus-style function)", "@SUM(A1)", "'@SUM(A1)"},
		{"leading tab", "\t=1", "'\t=1"},
		{"leading carriage return", "\r=1", "'\r=1"},
		{"plain text", "Acme cut prices", "Acme cut prices"},
		{"a sign later in the cell is harmless", "a=b-c", "a=b-c"},
		{"empty", "", ""},
		{"non-ASCII", "Zoë – Müller", "Zoë – Müller"},
	}
	for _, tc := range cases {
		if got := csvText(tc.in); got != tc.want {
			t.Errorf("%s: csvText(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// seedFormulaRep adds a rep whose name and team are formulas, with a
// March contribution whose subject is one too.
func seedFormulaRep(t *testing.T, st *store.Store) {
	t.Helper()
	ids := seedReps(t, st, `=HYPERLINK("evil.example","Zoë")/@ops`)
	rep := ids[`=HYPERLINK("evil.example","Zoë")`]
	seedItem(t, st, model.RawItem{SourceKey: "7:1", Kind: "email", ReceivedAt: time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)},
		model.Processed{RepID: rep, Sender: "=hyperlink(\"evil.example\",\"zoë\")@example.test",
			Subject: "-2+3 =cmd|' /C calc'!A0", Tags: []model.Tag{{Kind: "competitor", Value: "Acme"}},
			Ledger: ledger(rep, "2026-03", "category:intel", 1)})
}

// TestLeaderboardCSV: both databases give the same file, byte for byte.
func TestLeaderboardCSV(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		seedScenario(t, e.st)
		seedFormulaRep(t, e.st)
		c, _ := e.signIn(t)
		resp, body := get(t, c, e.srv.URL+"/leaderboard.csv?month=2026-03")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET = %d", resp.StatusCode)
		}
		for k, want := range map[string]string{
			"Content-Type":        "text/csv; charset=utf-8; header=present",
			"Content-Disposition": `attachment; filename=leaderboard-2026-03.csv`,
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		rows, err := csv.NewReader(bytes.NewReader([]byte(body))).ReadAll()
		if err != nil {
			t.Fatalf("not RFC 4180 CSV: %v", err)
		}
		if len(rows) != 6 || rows[0][0] != "rank" || rows[5][1] != `'=HYPERLINK("evil.example","Zoë")` || rows[5][2] != "'@ops" {
			t.Errorf("rows = %q", rows)
		}
		if rows[4][9] != "-6" {
			t.Errorf("Di's change = %q, want the number -6 (numbers are not text cells)", rows[4][9])
		}
		golden(t, "leaderboard-2026-03.csv", []byte(body))

		_, team := get(t, c, e.srv.URL+"/leaderboard.csv?month=2026-03&team=West")
		rows, _ = csv.NewReader(bytes.NewReader([]byte(team))).ReadAll()
		if len(rows) != 3 || rows[1][1] != "Ana Lima" || rows[2][1] != "Bo Chen" {
			t.Errorf("West = %q", rows)
		}
	})
}

func TestInboxCSV(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		seedFormulaRep(t, e.st)
		c, _ := e.signIn(t)
		resp, body := get(t, c, e.srv.URL+"/items.csv?competitor=Acme")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != "attachment; filename=items-2026-03-15.csv" {
			t.Fatalf("GET = %d, %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
		rows, err := csv.NewReader(bytes.NewReader([]byte(body))).ReadAll()
		if err != nil {
			t.Fatalf("not RFC 4180 CSV: %v", err)
		}
		want := [][]string{
			{"id", "received", "kind", "state", "sender", "rep", "subject", "categories", "competitors", "products", "topics", "owners", "points"},
			{"7", "2026-03-11T05:00:00-04:00", "email", "processed", `'=hyperlink("evil.example","zoë")@example.test`,
				`'=HYPERLINK("evil.example","Zoë")`, "'-2+3 =cmd|' /C calc'!A0", "", "Acme", "", "", "", "1"},
			{fmt.Sprint(sc.acme), "2026-03-10T10:00:00-04:00", "email", "processed", "ana@example.test", "Ana Lima", xssSubject,
				"intel", "Acme", "", "", "ci-team", "10"},
		}
		if len(rows) != len(want) {
			t.Fatalf("rows = %q", rows)
		}
		for i := range want {
			if want[i][0] == "7" {
				want[i][0] = rows[i][0] // the formula rep's item id
			}
			if !slices.Equal(rows[i], want[i]) {
				t.Errorf("row %d = %q\nwant     %q", i, rows[i], want[i])
			}
		}
	})
}
