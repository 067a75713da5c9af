package pipeline

import (
	"fmt"
	"strings"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/intake"
	"github.com/earshot-dev/earshot/routing"
)

// Router tags items and assigns them to owners, as configured. It is what
// the workers and `earshot route test` share.
type Router struct {
	Tagger *routing.Tagger
	// Tree is nil when no owners or routes are configured.
	Tree *routing.Tree
	// Categories maps a mailbox address (lower case) to its category.
	Categories map[string]string
}

// NewRouter compiles the configured competitors, products, topics and
// route tree. Owners named on competitors and products come first, with
// continue, so they always hear of their entity.
func NewRouter(cfg *config.Config) (*Router, error) {
	topics := cfg.Topics
	if len(topics) == 0 {
		topics = routing.DefaultTopics()
	}
	tagger, err := routing.NewTagger(cfg.Competitors, cfg.Products, topics, routing.WithSpokenForms(cfg.SpokenForms))
	if err != nil {
		return nil, fmt.Errorf("tagger: %w", err)
	}
	r := &Router{Tagger: tagger, Categories: map[string]string{}}
	for _, m := range cfg.Mailboxes {
		r.Categories[strings.ToLower(m.Address)] = m.Category
	}
	root := cfg.Route
	root.Routes = append(routing.EntityRoutes(cfg.Competitors, cfg.Products), root.Routes...)
	if root.Owner != "" || len(root.Routes) > 0 {
		var owners []string
		for _, o := range cfg.Owners {
			owners = append(owners, o.Name)
		}
		r.Tree, _, err = routing.NewTree(root, owners)
		if err != nil {
			return nil, fmt.Errorf("route tree: %w", err)
		}
	}
	return r, nil
}

// EmailInput is what tagging reads of a normalized email that arrived in
// the given mailboxes (addresses).
func (r *Router) EmailInput(msg *intake.Message, mailboxes []string) routing.Input {
	in := routing.Input{Subject: msg.Subject, Text: msg.Text, Quoted: msg.Quoted}
	seen := map[string]bool{}
	for _, mb := range mailboxes {
		if c := r.Categories[strings.ToLower(mb)]; c != "" && !seen[c] {
			seen[c] = true
			in.Mailboxes = append(in.Mailboxes, c)
		}
	}
	for _, f := range msg.Forwarded {
		in.Forwarded = append(in.Forwarded, strings.TrimSpace(f.Subject+"\n"+f.Text))
	}
	return in
}

// Route tags the input and assigns owners.
func (r *Router) Route(in routing.Input) ([]routing.Tag, []routing.Assignment) {
	tags := r.Tagger.Tag(in)
	var as []routing.Assignment
	if r.Tree != nil {
		as = r.Tree.Assign(tags)
	}
	return tags, as
}
