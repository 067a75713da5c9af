package main

import (
	"context"
	"time"

	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/points"
)

// cmdPoints is `earshot points adjust`: a manager's correction, kept in
// the ledger with its reason.
func cmdPoints(ctx context.Context, e *env, args []string) error {
	fs, path := flags("points", e)
	rep := fs.String("rep", "", "the rep's `name or email`")
	n := fs.Int("points", 0, "`points` to add (negative to take away)")
	reason := fs.String("reason", "", "why (required; kept in the ledger)")
	month := fs.String("month", "", "`YYYY-MM` the adjustment counts for (default: this month)")
	by := fs.String("by", e.getenv("USER"), "the manager making the adjustment")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || fs.Arg(0) != "adjust" {
		return usagef("want: earshot points -c FILE adjust -rep NAME|EMAIL -points N -reason \"…\" [-month YYYY-MM]")
	}
	if err := parseFlags(fs, fs.Args()[1:]); err != nil {
		return err
	}
	if *rep == "" || *n == 0 || *reason == "" {
		return usagef("-rep, -points (not 0) and -reason are required")
	}
	c, s, err := configAndStore(ctx, *path)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
	rules := points.NewRules(c.Points, c.Products, c.Location)
	_, err = points.Adjust(ctx, e.stdout, s, rules, points.Adjustment{Rep: *rep, Points: *n, Reason: *reason,
		Month: *month, Actor: *by}, time.Now())
	return err
}

// cmdTemplates is `earshot templates preview`: renders an ack, notice or
// digest for a stored item or the sample data.
func cmdTemplates(ctx context.Context, e *env, args []string) error {
	fs, path := flags("templates", e)
	item := fs.Int64("item", 0, "render for the stored item with this `id`")
	sample := fs.Bool("sample", false, "render the sample data (the default without -item)")
	kind := fs.String("kind", "ack", "what to render: ack, sms, notice, digest, reminder or manager-digest")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 || fs.Arg(0) != "preview" {
		return usagef("want: earshot templates -c FILE preview [-item ID | -sample] [-kind KIND]")
	}
	if err := parseFlags(fs, fs.Args()[1:]); err != nil {
		return err
	}
	if *sample && *item != 0 {
		return usagef("-item and -sample exclude each other")
	}
	c, err := loadConfig(*path)
	if err != nil {
		return err
	}
	composer, err := outbound.LoadComposer(c)
	if err != nil {
		return configError{err}
	}
	rules := points.NewRules(c.Points, c.Products, c.Location)
	opts := outbound.PreviewOptions{Kind: *kind, ItemID: *item, Owners: c.Owners}
	if *item == 0 {
		return outbound.Preview(ctx, e.stdout, nil, composer, rules, opts)
	}
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	return outbound.Preview(ctx, e.stdout, s, composer, rules, opts)
}
