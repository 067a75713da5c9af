package points

import (
	"strings"

	"github.com/earshot-dev/earshot/model"
)

// ReasonQuality prefixes the reason of a quality bonus, paid when an
// owner decides on the rep's item: "quality:shipped".
const ReasonQuality = "quality:"

// Label describes a ledger reason for people, as acks show it:
// "category:intel" is "Competitive intel", "bonus:new-competitor:Acme" is
// "First report of Acme in 30 days".
func Label(reason string) string {
	switch {
	case reason == ReasonCategory+Intel:
		return "Competitive intel"
	case reason == ReasonCategory+Feedback:
		return "Product feedback"
	case reason == ReasonFirstIntel:
		return "First intel this month"
	case strings.HasPrefix(reason, ReasonProductWeight):
		return strings.TrimPrefix(reason, ReasonProductWeight) + " weight"
	case strings.HasPrefix(reason, ReasonNewCompetitor):
		return "First report of " + strings.TrimPrefix(reason, ReasonNewCompetitor) + " in 30 days"
	case strings.HasPrefix(reason, ReasonChannel):
		ch := strings.TrimPrefix(reason, ReasonChannel)
		return strings.ToUpper(ch[:min(1, len(ch))]) + ch[min(1, len(ch)):]
	case strings.HasPrefix(reason, ReasonQuality):
		st := strings.TrimPrefix(reason, ReasonQuality)
		return "Quality bonus: " + st
	case strings.HasPrefix(reason, model.ReasonAdjust):
		return "Adjustment: " + strings.TrimPrefix(reason, model.ReasonAdjust)
	}
	return reason
}
