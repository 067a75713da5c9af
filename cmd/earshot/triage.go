package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// cmdTriage is `earshot triage`: it marks items triaged, which stops
// their SLA reminders, or lists the assignments still waiting.
func cmdTriage(ctx context.Context, e *env, args []string) error {
	fs, path := flags("triage", e)
	owner := fs.String("owner", "", "only the assignments of this `owner`")
	by := fs.String("by", e.getenv("USER"), "`who` triaged (default $USER)")
	list := fs.Bool("list", false, "list the untriaged assignments with their age instead")
	ids, err := triageArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *list && len(ids) > 0:
		return usagef("-list takes no item ids")
	case !*list && len(ids) == 0:
		return usagef("want: earshot triage -c FILE [-owner NAME] [-by WHO] ITEM_ID… or earshot triage -c FILE -list [-owner NAME]")
	case !*list && *by == "":
		return usagef("-by is required when $USER is not set")
	}
	_, s, err := configAndStore(ctx, *path)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
	if *list {
		open, err := s.UntriagedAssignments(ctx, *owner, 0)
		if err != nil {
			return err
		}
		now := time.Now()
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ITEM\tOWNER\tAGE\tNOTIFIED\tREMINDED\tSUBJECT")
		for _, a := range open {
			subject := a.Subject
			if a.Kind == "voicemail" && subject == "" {
				subject = "(voicemail)"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", a.ItemID, a.Owner, triageAge(now.Sub(a.AssignedAt)),
				triageYesNo(!a.NotifiedAt.IsZero()), triageYesNo(!a.RemindedAt.IsZero()), triageClip(subject, 60))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d untriaged\n", len(open))
		return nil
	}
	done, err := s.TriageAssignments(ctx, ids, *owner, *by)
	if err != nil {
		return err
	}
	marked := map[int64]bool{}
	for _, d := range done {
		marked[d.ItemID] = true
		fmt.Fprintf(e.stdout, "item %d: triaged for %s by %s\n", d.ItemID, d.Owner, *by)
	}
	for _, id := range ids {
		if !marked[id] {
			fmt.Fprintf(e.stderr, "item %d: nothing to triage (no such item, already triaged, or not assigned%s)\n",
				id, triageOwner(*owner))
		}
	}
	if len(done) == 0 {
		return errors.New("nothing was triaged")
	}
	return nil
}

// triageArgs parses flags that may come before, between or after the
// item ids, and returns the ids.
func triageArgs(fs *flag.FlagSet, args []string) ([]int64, error) {
	var ids []int64
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return ids, nil
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || id <= 0 {
			return nil, usagef("item id %q is not a number", fs.Arg(0))
		}
		ids = append(ids, id)
		args = fs.Args()[1:]
	}
}

func triageOwner(owner string) string {
	if owner == "" {
		return ""
	}
	return " to " + owner
}

// triageAge is a waiting time as a person reads it: 45m, 26h, 3d4h.
func triageAge(d time.Duration) string {
	switch {
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	days := int(d.Hours()) / 24
	return fmt.Sprintf("%dd%dh", days, int(d.Hours())-24*days)
}

func triageYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// triageClip cuts s to at most n characters, marking the cut with "…".
func triageClip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
