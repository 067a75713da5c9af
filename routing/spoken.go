package routing

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// DefaultSpokenForms returns how transcripts spell some default topic keywords that are written as
// abbreviations: a recogniser writes what it hears, "single sign on" for SSO.
func DefaultSpokenForms() map[string][]string {
	return map[string][]string{
		"sso":   {"single sign on", "s s o"},
		"saml":  {"sam l", "s a m l"},
		"soc 2": {"sock two", "sock 2", "soc two", "s o c two", "s o c 2"},
		"mfa":   {"multi factor", "multifactor", "m f a"},
		"2fa":   {"two factor", "two f a"},
		"api":   {"a p i"},
		"sdk":   {"s d k"},
		"erp":   {"e r p"},
		"% off": {"percent off"},
	}
}

// Option changes how NewTagger compiles.
type Option func(*options)

// options are what the Options set.
type options struct {
	spoken     map[string][]string
	heardNames bool
}

// WithSpokenForms gives the spoken forms of keywords and aliases: for each one as written in the
// configuration, the ways a transcript may spell it ("sso": ["single sign on"]). In a transcript a spoken form
// counts as the keyword itself, for every product, topic or competitor that lists it. forms are added to
// DefaultSpokenForms, replacing the default of the same keyword; an empty list removes it. A spoken form of a
// keyword nobody lists has no effect (check-config warns).
func WithSpokenForms(forms map[string][]string) Option {
	return func(o *options) {
		for k, v := range forms {
			key := aliasKey(k)
			for have := range o.spoken {
				if aliasKey(have) == key {
					delete(o.spoken, have)
				}
			}
			if len(v) > 0 {
				o.spoken[k] = slices.Clone(v)
			}
		}
	}
}

// WithoutHeardNames turns off matching names by sound and spelling in transcripts, which is on by default; for
// measuring what it adds.
func WithoutHeardNames() Option {
	return func(o *options) { o.heardNames = false }
}

// newOptions applies opts to the defaults.
func newOptions(opts []Option) options {
	o := options{spoken: DefaultSpokenForms(), heardNames: true}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// addSpokenForms registers the spoken forms of every phrase the builder holds, with the same meanings, marked as
// valid in transcripts only.
func (b *dictionaryBuilder) addSpokenForms(forms map[string][]string) {
	for _, written := range slices.Sorted(maps.Keys(forms)) {
		id, ok := b.byKey[aliasKey(written)]
		if !ok {
			continue
		}
		targets := slices.Clone(b.phrases[id].targets)
		for _, spoken := range forms[written] {
			if strings.TrimSpace(spoken) == "" {
				continue
			}
			for _, t := range targets {
				if t.kind == entityContext {
					continue
				}
				t.spoken = true
				b.add(spoken, t)
			}
		}
	}
}

// CheckSpokenForms reports spoken forms that are empty, and warns of those whose keyword no competitor, product
// or topic lists.
func CheckSpokenForms(forms map[string][]string, competitors []Competitor, products []Product, topics []Topic) []Problem {
	var c checker
	known := make(map[string]bool)
	for _, comp := range competitors {
		for _, a := range competitorAliases(comp) {
			known[aliasKey(a.text)] = true
		}
	}
	for _, p := range products {
		for _, k := range p.Keywords {
			known[aliasKey(k)] = true
		}
	}
	for _, t := range topics {
		for _, k := range t.Keywords {
			known[aliasKey(k)] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(forms)) {
		path := "spoken_forms." + k
		if !known[aliasKey(k)] {
			c.warnf(path, "%q is no competitor alias, product keyword or topic keyword, so its spoken forms have no effect", k)
		}
		for i, s := range forms[k] {
			if aliasKey(s) == "" {
				c.errorf(fmt.Sprintf("%s[%d]", path, i), "empty spoken form")
			}
		}
	}
	return c.problems
}
