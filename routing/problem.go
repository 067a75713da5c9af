package routing

import (
	"fmt"
	"strings"
)

// Problem is something wrong, or suspicious when Warning is set, at one place of the configuration.
type Problem struct {
	// Path names the place, like "route.routes[2].match[0]" or "competitors[1].aliases[0]".
	Path string
	// Message says what is wrong, in lower case.
	Message string
	// Warning marks a problem that does not stop the configuration from loading.
	Warning bool
}

// String renders the problem as "path: message", with " (warning)" for a warning.
func (p Problem) String() string {
	if p.Warning {
		return p.Path + ": " + p.Message + " (warning)"
	}
	return p.Path + ": " + p.Message
}

// problemsError returns an error listing the problems that are not warnings, or nil when there are none.
func problemsError(what string, problems []Problem) error {
	var msgs []string
	for _, p := range problems {
		if !p.Warning {
			msgs = append(msgs, p.String())
		}
	}
	switch len(msgs) {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("invalid %s: %s", what, msgs[0])
	default:
		return fmt.Errorf("invalid %s: %d problems: %s", what, len(msgs), strings.Join(msgs, "; "))
	}
}
