package routing

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Explain renders tags with their evidence and the assignments with their route paths, for `earshot route
// test`:
//
//	tags:
//	  category    intel   mailbox          mailbox[0] "intel"
//	  competitor  Acme    alias            text@14 "Acme’s"
//	  competitor  Globex  sounds like      transcript@6 heard as "globe ex" (sounds like, 0.80)
//	assigned to:
//	  dana  root > {category="intel"}
func Explain(tags []Tag, as []Assignment) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "tags:")
	if len(tags) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, t := range tags {
		evs := make([]string, len(t.Evidence))
		for i, ev := range t.Evidence {
			evs[i] = describeEvidence(ev)
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", t.Kind, t.Value, t.Rule, strings.Join(evs, ", "))
	}
	w.Flush()
	w = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "assigned to:")
	if len(as) == 0 {
		fmt.Fprintln(w, "  (nobody)")
	}
	for _, a := range as {
		fmt.Fprintf(w, "  %s\t%s\n", a.Owner, a.Path)
	}
	w.Flush()
	return b.String()
}

// describeEvidence renders one piece of evidence as field@offset "phrase", or mailbox[i] "category"; a name
// heard by sound or spelling as field@offset heard as "phrase" (rule, confidence), and a spoken form as
// field@offset "phrase" (spoken form).
func describeEvidence(ev Evidence) string {
	switch {
	case ev.Field == FieldMailbox:
		return fmt.Sprintf("%s[%d] %s", ev.Field, ev.Offset, strconv.Quote(ev.Phrase))
	case ev.Confidence > 0:
		return fmt.Sprintf("%s@%d heard as %s (%s, %.2f)", ev.Field, ev.Offset, strconv.Quote(ev.Phrase), ev.Rule, ev.Confidence)
	case ev.Rule != "":
		return fmt.Sprintf("%s@%d %s (%s)", ev.Field, ev.Offset, strconv.Quote(ev.Phrase), ev.Rule)
	}
	return fmt.Sprintf("%s@%d %s", ev.Field, ev.Offset, strconv.Quote(ev.Phrase))
}
