package routing

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Route is one node of the owner route tree, in the style of Prometheus Alertmanager.
type Route struct {
	// Owner receives the items this route takes; empty inherits the parent's owner. The root's owner is the
	// default for items no route takes, if they have a category.
	Owner string `yaml:"owner"`
	// Match lists matchers that must all hold: `category=intel`, `competitor="Acme"`,
	// `product=~"Billing|Invoices"`, `topic!=pricing`, `product!~"..."`.
	Match []string `yaml:"match"`
	// Continue lets later siblings be tried after this route matched.
	Continue bool `yaml:"continue"`
	// Routes are the child routes, tried depth-first in order.
	Routes []Route `yaml:"routes"`
}

// Assignment is one owner an item goes to and the route that sent it there.
type Assignment struct {
	// Owner is the owner's name.
	Owner string
	// Path is the route taken, such as `root > {category="intel"} > {competitor="Acme"}`.
	Path string
}

// Tree is a compiled, validated route tree; it is immutable and safe for concurrent use.
type Tree struct {
	root *node
}

// node is a compiled route.
type node struct {
	owner    string // resolved: inherited from the parent when the route names none
	matchers []matcher
	cont     bool
	children []*node
	path     string
}

// NewTree validates and compiles the route tree rooted at root. owners are the known owner names. It returns
// every problem found, with paths like "route.routes[2].match[0]", and an error when any of them is not a
// warning.
func NewTree(root Route, owners []string) (*Tree, []Problem, error) {
	var c checker
	if strings.TrimSpace(root.Owner) == "" {
		c.errorf("route.owner", "the root route needs an owner, the default for items no route takes")
	}
	if len(root.Match) > 0 {
		c.errorf("route.match", "the root route takes every item and must not have matchers")
	}
	if root.Continue {
		c.warnf("route.continue", "continue has no effect on the root route")
	}
	n := compile(&c, root, "route", "root", "", owners)
	if err := problemsError("route tree", c.problems); err != nil {
		return nil, c.problems, err
	}
	return &Tree{root: n}, c.problems, nil
}

// compile checks and compiles r, found at config path path, whose parent resolved its owner to inherited.
func compile(c *checker, r Route, path, routePath, inherited string, owners []string) *node {
	n := &node{owner: inherited, cont: r.Continue, path: routePath}
	if r.Owner != "" {
		n.owner = r.Owner
		if !slices.Contains(owners, r.Owner) {
			c.errorf(path+".owner", "unknown owner %q", r.Owner)
		}
	}
	for i, s := range r.Match {
		m, err := parseMatcher(s)
		if err != nil {
			c.errorf(fmt.Sprintf("%s.match[%d]", path, i), "%v", err)
			continue
		}
		n.matchers = append(n.matchers, m)
	}
	for i, child := range r.Routes {
		childPath := fmt.Sprintf("%s.routes[%d]", path, i)
		if len(child.Match) == 0 && !child.Continue && i < len(r.Routes)-1 {
			c.warnf(childPath, "matches every item, so the routes after it are never tried")
		}
		n.children = append(n.children, compile(c, child, childPath, routePath+" > "+describe(child.Match), n.owner, owners))
	}
	return n
}

// describe renders a route's matchers for a route path, like {category="intel", competitor="Acme"}; a
// matcher that does not parse is shown as written.
func describe(match []string) string {
	parts := make([]string, len(match))
	for i, s := range match {
		if m, err := parseMatcher(s); err == nil {
			parts[i] = m.String()
		} else {
			parts[i] = s
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Assign returns the owners the tags route to, each with the route path, in route order. When no route below
// the root matches, the root owner takes the item if it has a category; an item without one (a hang-up, a
// voicemail too short to be feedback) goes to nobody unless a route matches it. An owner reached twice keeps its
// first path.
func (t *Tree) Assign(tags []Tag) []Assignment {
	got := t.root.assign(tags)
	if len(got) == 1 && got[0].Path == t.root.path && !slices.ContainsFunc(tags, func(t Tag) bool { return t.Kind == KindCategory }) {
		return nil
	}
	var out []Assignment
	for _, a := range got {
		if !slices.ContainsFunc(out, func(b Assignment) bool { return b.Owner == a.Owner }) {
			out = append(out, a)
		}
	}
	return out
}

// assign returns the assignments of n for tags, or nil when n does not match.
func (n *node) assign(tags []Tag) []Assignment {
	for _, m := range n.matchers {
		if !m.holds(tags) {
			return nil
		}
	}
	var out []Assignment
	for _, child := range n.children {
		got := child.assign(tags)
		if got == nil {
			continue
		}
		out = append(out, got...)
		if !child.cont {
			break
		}
	}
	if out == nil {
		out = []Assignment{{Owner: n.owner, Path: n.path}}
	}
	return out
}

// EntityRoutes returns one route per competitor and product that names an owner, matching that entity and
// marked continue, so the owner always hears of it and the routes after still run. Put them first among the
// root's routes to honour the owners named on competitors and products.
func EntityRoutes(competitors []Competitor, products []Product) []Route {
	var out []Route
	for _, c := range competitors {
		if c.Owner != "" {
			out = append(out, Route{Owner: c.Owner, Match: []string{KindCompetitor + "=" + strconv.Quote(c.Name)}, Continue: true})
		}
	}
	for _, p := range products {
		if p.Owner != "" {
			out = append(out, Route{Owner: p.Owner, Match: []string{KindProduct + "=" + strconv.Quote(p.Name)}, Continue: true})
		}
	}
	return out
}

// EntityOwnerNotes says in words what the owners named on competitors and products receive, for `earshot
// check-config`: a competitor's owner every item naming it, a product's owner every item about the product,
// intel as well as feedback.
func EntityOwnerNotes(competitors []Competitor, products []Product) []string {
	var out []string
	for i, c := range competitors {
		if c.Owner != "" {
			out = append(out, fmt.Sprintf("competitors[%d].owner: %s receives every item naming %s, whatever else routes it", i, c.Owner, c.Name))
		}
	}
	for i, p := range products {
		if p.Owner != "" {
			out = append(out, fmt.Sprintf("products[%d].owner: %s receives every item about %s, feedback and intel alike, whatever else routes it", i, p.Owner, p.Name))
		}
	}
	return out
}
