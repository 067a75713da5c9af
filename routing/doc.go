// Package routing tags incoming field input and routes it to owners.
//
// A Tagger reads the subject, text, voicemail transcript and forwarded customer mail of one item and returns
// tags of four kinds: the category (feedback, intel), the competitors named, the products concerned and the
// topics raised. Every tag carries the phrases that produced it. Matching folds case and accents, respects word
// boundaries, accepts possessives and plurals, and runs one Aho-Corasick automaton over all aliases and keywords
// so it stays fast with hundreds of entries. Quoted reply text never produces tags.
//
// A Tree assigns tagged items to owners with a route tree in the style of Prometheus Alertmanager: each route
// has matchers on tags, the first matching child wins unless it sets continue, and the root owner is the
// default.
package routing
