package templates

import (
	"strings"
	"time"
)

// Sample returns example data for a template name, for previews, golden
// files and the check Load runs on every template. Names without an
// example of their own get the intel ack's data.
func Sample(name string) Data {
	d := sampleAck()
	switch {
	case strings.HasPrefix(name, "ack_feedback"), strings.HasSuffix(name, "_feedback"):
		d.Item = sampleFeedback()
		d.Points.Awarded, d.Points.Lines = 4, []Line{{"Product feedback", 1}, {"Billing weight", 1}, {"Voicemail", 2}}
		d.Points.MonthTotal = 13
	case strings.HasPrefix(name, "ack_both"), strings.HasSuffix(name, "_both"):
		d.Item.Category = "both"
		d.Item.Products = []Tag{{Value: "Billing", Evidence: []string{"invoice export"}}}
		d.Points.Awarded = 8
		d.Points.Lines = []Line{{"Competitive intel", 3}, {"Product feedback", 1}, {"Billing weight", 4}}
		d.Points.MonthTotal = 17
	case name == "notice", name == "slack_notice":
		d.Owner = Owner{Name: "ci-lead", Email: "ci-lead@example.com"}
	case name == "digest":
		d.Owner = Owner{Name: "billing-pm", Email: "billing-pm@example.com"}
		d.Period = "Tuesday 3 March 2026"
		d.Items = []Item{sampleIntel(), sampleFeedback()}
	case name == "reminder":
		d.Owner = Owner{Name: "ci-lead", Email: "ci-lead@example.com"}
		it := sampleIntel()
		it.Waiting = 26 * time.Hour
		d.Items = []Item{it}
	case name == "status_note", name == "sms_status", name == "slack_status":
		d.Item = sampleFeedback()
		d.Decision = Decision{Status: "shipped", Note: "in 4.2, out on 14 March", Owner: "billing-pm", Bonus: 10}
		d.Links.RepPage = "https://earshot.example.com/me/7.1772323200.1780099200.sig"
	case name == "manager_digest":
		d.Month = "February 2026"
		d.Leaderboard = []Standing{
			{Rank: 1, Name: "Sam Okafor", Team: "West", Points: 31},
			{Rank: 2, Name: "Dana Reyes", Team: "East", Points: 24},
			{Rank: 2, Name: "Lee Park", Team: "East", Points: 24},
			{Rank: 4, Name: "Ana Silva", Team: "West", Points: 9},
		}
		d.Items = []Item{sampleIntel()}
	}
	return d
}

func sampleAck() Data {
	return Data{
		Rep:  Rep{Name: "Dana Reyes", FirstName: "Dana", Address: "dana.reyes@example.com", Registered: true},
		Item: sampleIntel(),
		Points: Points{
			Awarded:    7,
			Lines:      []Line{{"Competitive intel", 3}, {"First intel this month", 2}, {"First report of Acme in 30 days", 2}},
			Month:      "March 2026",
			MonthTotal: 16,
			Rank:       2,
			Ranked:     7,
			AllTime:    112,
			Goals:      []Goal{{Name: "competitive nugget", Done: 1, Target: 1, Met: true}},
		},
		Links: Links{Dashboard: "https://earshot.example.com", Leaderboard: "https://earshot.example.com/leaderboard"},
	}
}

func sampleIntel() Item {
	return Item{
		ID:       4211,
		Kind:     "email",
		Subject:  "Acme undercutting us at Globex",
		Text:     "Globex told me Acme offered them 40% off list if they sign before the end of the quarter.\nThey also claim native SSO.",
		Received: time.Date(2026, 3, 3, 9, 41, 0, 0, time.FixedZone("PST", -8*3600)),
		Category: "intel",
		Competitors: []Tag{
			{Value: "Acme", Evidence: []string{"Acme offered them 40% off"}},
		},
		Topics:           []Tag{{Value: "discount", Evidence: []string{"40% off list"}}},
		Owners:           []string{"ci-lead"},
		URL:              "https://earshot.example.com/items/4211",
		OriginalAttached: true,
		Size:             48213,
	}
}

func sampleFeedback() Item {
	return Item{
		ID:       4212,
		Kind:     "voicemail",
		Text:     "Hi, it's Dana. Initech can't export invoices to their ERP and asked when that's coming.",
		Received: time.Date(2026, 3, 3, 14, 5, 0, 0, time.FixedZone("PST", -8*3600)),
		Category: "feedback",
		Products: []Tag{{Value: "Billing", Evidence: []string{"export invoices"}}},
		Topics:   []Tag{{Value: "feature request", Evidence: []string{"asked when that's coming"}}},
		Owners:   []string{"billing-pm"},
		URL:      "https://earshot.example.com/items/4212",
		AudioURL: "https://earshot.example.com/items/4212/audio",
	}
}
