package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/earshot-dev/earshot/reps"
)

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	fs, path := flags("migrate", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "up" && fs.Arg(0) != "status") {
		return usagef("want up or status")
	}
	_, s, err := configAndStore(ctx, *path)
	if err != nil {
		return err
	}
	defer s.Close()
	if fs.Arg(0) == "up" {
		n, err := s.Migrate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "applied %d migrations\n", n)
		return nil
	}
	ms, err := s.Migrations(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
	for _, m := range ms {
		st := "pending"
		if m.Applied {
			st = "applied"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\n", m.Version, st, m.Source)
	}
	return tw.Flush()
}

func cmdReps(ctx context.Context, e *env, args []string) error {
	fs, path := flags("reps", e)
	region := fs.String("region", "", "`region` of phone numbers written without a country code (default: phone_region of the config)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] != "import" {
		return usagef("want: earshot reps -c FILE import [-region US] FILE.csv")
	}
	// Flags may also follow the subcommand.
	if err := parseFlags(fs, rest[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one CSV file")
	}
	c, err := loadConfig(*path)
	if err != nil {
		return err
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	if *region == "" {
		*region = c.PhoneRegion
	}
	roster, err := reps.ParseCSV(f, *region)
	if err != nil {
		return fmt.Errorf("%s: nothing imported:\n%w", fs.Arg(0), err)
	}
	s, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
	res, err := s.ImportReps(ctx, roster)
	if err != nil {
		return fmt.Errorf("%s: nothing imported: %w", fs.Arg(0), err)
	}
	fmt.Fprintf(e.stdout, "imported %d reps: %d new, %d updated\n", len(roster), res.Created, res.Updated)
	// Contributions of senders who were unregistered until now are
	// processed again, which pays their waiting points.
	n, err := s.ReleaseWaitingPoints(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(e.stdout, "%d earlier contributions of newly registered reps queued to earn their points\n", n)
	}
	return nil
}

func cmdSources(ctx context.Context, e *env, args []string) error {
	fs, path := flags("sources", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, s, err := configAndStore(ctx, *path)
	if err != nil {
		return err
	}
	defer s.Close()
	srcs, err := s.Sources(ctx)
	if err != nil {
		return err
	}
	lastItem, err := s.LastReceived(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tKIND\tSTATE\tITEMS\tCURSOR\tLAST EVENT\tLAST SUCCESS\tLAG\tHOLDER\tLAST ERROR")
	now := time.Now()
	for _, src := range srcs {
		state := "ok"
		switch {
		case src.DisabledReason != "":
			state = "disabled: " + src.DisabledReason
		case src.LastSuccessAt.IsZero():
			state = "never succeeded"
		case src.LastError != "" && !src.LastErrorAt.IsZero() && src.LastErrorAt.After(src.LastSuccessAt):
			state = "failing"
		}
		last, lag := "-", "-"
		if !src.LastSuccessAt.IsZero() {
			last = src.LastSuccessAt.Local().Format(time.DateTime)
			lag = now.Sub(src.LastSuccessAt).Round(time.Second).String()
		}
		holder := src.LeaseHolder
		if holder == "" || (!src.LeaseUntil.IsZero() && src.LeaseUntil.Before(now)) {
			holder = "-"
		}
		event := "-"
		if at, ok := lastItem[src.Name]; ok {
			event = at.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", src.Name, src.Kind, state, src.Items,
			src.Cursor, event, last, lag, holder, orDash(src.LastError))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdReprocess(ctx context.Context, e *env, args []string) error {
	fs, path := flags("reprocess", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var ids []int64
	for _, a := range fs.Args() {
		id, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return usagef("item id %q is not a number", a)
		}
		ids = append(ids, id)
	}
	_, s, err := configAndStore(ctx, *path)
	if err != nil {
		return err
	}
	defer s.Close()
	n, err := s.Reprocess(ctx, ids)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d items queued for processing\n", n)
	return nil
}
