package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/earshot-dev/earshot/model"
)

// boardPage is what leaderboard.html shows.
type boardPage struct {
	Month           model.Month
	Team            string
	Prev, Next      model.Month
	IsCurrent       bool
	Teams           []string
	Rows            []model.Standing
	Chart           chart
	PrevURL         string
	NextURL         string
	CSVURL          string
	TotalPoints     int
	TotalIntel      int
	TotalFeedback   int
	TotalVoicemails int
}

// boardQuery reads ?month= (this month in the configured zone by
// default) and ?team=.
func (d *Dashboard) boardQuery(r *http.Request) (model.BoardQuery, error) {
	q := model.BoardQuery{Month: d.thisMonth(), Team: strings.TrimSpace(r.URL.Query().Get("team"))}
	if m := strings.TrimSpace(r.URL.Query().Get("month")); m != "" {
		month, err := model.ParseMonth(m)
		if err != nil {
			return q, badRequest("The month must be YYYY-MM.")
		}
		q.Month = month
	}
	return q, nil
}

// boardURL links to a month's leaderboard, keeping the team.
func boardURL(path string, month model.Month, team string) string {
	v := urlValues("month", string(month), "team", team)
	return path + "?" + v.Encode()
}

// leaderboard shows a month's ranking and the twelve-month chart.
func (d *Dashboard) leaderboard(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q, err := d.boardQuery(r)
	if err != nil {
		return err
	}
	rows, err := d.store.Leaderboard(r.Context(), q)
	if err != nil {
		return err
	}
	teams, err := d.store.Teams(r.Context())
	if err != nil {
		return err
	}
	months := q.Month.Range(12)
	totals, err := d.store.Contributions(r.Context(), months[0], q.Month, q.Team)
	if err != nil {
		return err
	}
	p := boardPage{Month: q.Month, Team: q.Team, Teams: teams, Rows: rows,
		Prev: q.Month.Prev(), Next: q.Month.Add(1), IsCurrent: q.Month == d.thisMonth(),
		Chart:  buildChart(months, totals, q.Month),
		CSVURL: boardURL("/leaderboard.csv", q.Month, q.Team)}
	p.PrevURL = boardURL("/leaderboard", p.Prev, q.Team)
	p.NextURL = boardURL("/leaderboard", p.Next, q.Team)
	for _, row := range rows {
		p.TotalPoints += row.Points
		p.TotalIntel += row.Intel
		p.TotalFeedback += row.Feedback
		p.TotalVoicemails += row.Voicemails
	}
	d.render(w, r, http.StatusOK, "leaderboard.html", v, "leaderboard", "Leaderboard", p)
	return nil
}

// leaderboardCSV downloads a month's leaderboard.
func (d *Dashboard) leaderboardCSV(w http.ResponseWriter, r *http.Request, v *viewer) error {
	q, err := d.boardQuery(r)
	if err != nil {
		return err
	}
	rows, err := d.store.Leaderboard(r.Context(), q)
	if err != nil {
		return err
	}
	name := "leaderboard-" + string(q.Month)
	if q.Team != "" {
		name += "-" + q.Team
	}
	cw, err := csvDownload(w, name+".csv", []string{"rank", "rep", "team", "intel", "feedback", "voicemails",
		"quality", "points", "last_month_points", "change"})
	if err != nil {
		return nil // the client went away
	}
	for _, row := range rows {
		cw.Write([]string{strconv.Itoa(row.Rank), csvText(row.Name), csvText(row.Team), strconv.Itoa(row.Intel),
			strconv.Itoa(row.Feedback), strconv.Itoa(row.Voicemails), strconv.Itoa(row.Quality), strconv.Itoa(row.Points),
			strconv.Itoa(row.PrevPoints), strconv.Itoa(row.Change())})
	}
	cw.Flush()
	return nil
}
