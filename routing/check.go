package routing

import (
	"fmt"
	"strings"
)

// Check validates competitors, products and topics. Errors: an empty name, a name used twice within one
// kind, an empty alias or keyword, an alias claimed by two competitors, a negative product weight. Warnings: a
// product or topic keyword equal to a competitor alias (the item is tagged both ways), a keyword shared by two
// products, an exact-case or ambiguous entry that is not among the aliases (it is matched as an extra alias),
// context words without ambiguous aliases.
func Check(competitors []Competitor, products []Product, topics []Topic) []Problem {
	var c checker
	aliasOwner := make(map[string]string) // folded alias -> path of the competitor that claims it
	names := make(map[string]string)
	for i, comp := range competitors {
		path := fmt.Sprintf("competitors[%d]", i)
		c.name(path, comp.Name, names)
		claimed := make(map[string]bool)
		claim := func(p, a string) {
			k := aliasKey(a)
			if k == "" {
				c.errorf(p, "empty alias")
				return
			}
			if claimed[k] {
				return
			}
			claimed[k] = true
			if other, ok := aliasOwner[k]; ok {
				c.errorf(p, "alias %q is also claimed by %s", a, other)
				return
			}
			aliasOwner[k] = fmt.Sprintf("%s (%s)", path, comp.Name)
		}
		if strings.TrimSpace(comp.Name) != "" {
			claim(path+".name", comp.Name)
		}
		for j, a := range comp.Aliases {
			claim(fmt.Sprintf("%s.aliases[%d]", path, j), a)
		}
		listed := func(a string) bool {
			k := aliasKey(a)
			if k == aliasKey(comp.Name) {
				return true
			}
			for _, b := range comp.Aliases {
				if aliasKey(b) == k {
					return true
				}
			}
			return false
		}
		for j, a := range comp.ExactCase {
			p := fmt.Sprintf("%s.exact_case[%d]", path, j)
			if !listed(a) {
				c.warnf(p, "%q is not among the name and aliases; it is matched as an extra alias", a)
			}
			claim(p, a)
		}
		for j, a := range comp.Ambiguous {
			p := fmt.Sprintf("%s.ambiguous[%d]", path, j)
			if !listed(a) {
				c.warnf(p, "%q is not among the name and aliases; it is matched as an extra alias", a)
			}
			claim(p, a)
		}
		for j, w := range comp.Context {
			if aliasKey(w) == "" {
				c.errorf(fmt.Sprintf("%s.context[%d]", path, j), "empty context word")
			}
		}
		if len(comp.Context) > 0 && len(comp.Ambiguous) == 0 {
			c.warnf(path+".context", "context words have no effect without ambiguous aliases")
		}
	}
	keywordOwner := make(map[string]string)
	names = make(map[string]string)
	for i, p := range products {
		path := fmt.Sprintf("products[%d]", i)
		c.name(path, p.Name, names)
		if p.Weight < 0 {
			c.errorf(path+".weight", "negative weight %g", p.Weight)
		}
		if len(p.Keywords) == 0 {
			c.warnf(path+".keywords", "no keywords, so the product is never tagged")
		}
		for j, kw := range p.Keywords {
			kp := fmt.Sprintf("%s.keywords[%d]", path, j)
			k := c.keyword(kp, kw, aliasOwner)
			if k == "" {
				continue
			}
			if other, ok := keywordOwner[k]; ok && other != path {
				c.warnf(kp, "keyword %q is also a keyword of %s", kw, other)
			}
			keywordOwner[k] = path
		}
	}
	names = make(map[string]string)
	for i, t := range topics {
		path := fmt.Sprintf("topics[%d]", i)
		c.name(path, t.Name, names)
		for j, kw := range t.Keywords {
			c.keyword(fmt.Sprintf("%s.keywords[%d]", path, j), kw, aliasOwner)
		}
	}
	return c.problems
}

// checker accumulates problems.
type checker struct{ problems []Problem }

func (c *checker) errorf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...), Warning: true})
}

// name checks that an entry has a name not used before by another entry of its kind.
func (c *checker) name(path, name string, seen map[string]string) {
	n := strings.TrimSpace(name)
	if n == "" {
		c.errorf(path+".name", "empty name")
		return
	}
	if other, ok := seen[strings.ToLower(n)]; ok {
		c.errorf(path+".name", "name %q is also used by %s", name, other)
		return
	}
	seen[strings.ToLower(n)] = path
}

// keyword checks a product or topic keyword and returns its folded form ("" when empty).
func (c *checker) keyword(path, kw string, aliasOwner map[string]string) string {
	k := aliasKey(kw)
	if k == "" {
		c.errorf(path, "empty keyword")
		return ""
	}
	if comp, ok := aliasOwner[k]; ok {
		c.warnf(path, "keyword %q is also an alias of %s, so it tags both", kw, comp)
	}
	return k
}
