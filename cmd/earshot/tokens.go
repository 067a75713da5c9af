package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"text/tabwriter"
)

// cmdTokens is `earshot tokens`: bearer tokens of the JSON API. Only a
// hash of a token is stored; create prints the token once.
func cmdTokens(ctx context.Context, e *env, args []string) error {
	fs, path := flags("tokens", e)
	scope := fs.String("scope", "read", "`read` (list and read items) or write (also set statuses)")
	// Flags may come before, between or after the words.
	var words []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words, args = append(words, fs.Arg(0)), fs.Args()[1:]
	}
	if len(words) == 0 {
		return usagef("want: earshot tokens -c FILE create NAME -scope read|write, list, or revoke NAME")
	}
	sub, name := words[0], ""
	switch {
	case (sub == "create" || sub == "revoke") && len(words) != 2:
		return usagef("want: earshot tokens %s NAME", sub)
	case sub == "create" || sub == "revoke":
		name = words[1]
	case len(words) > 1:
		return usagef("unexpected arguments: %v", words[1:])
	}
	if *scope != "read" && *scope != "write" {
		return usagef("-scope must be read or write")
	}
	_, s, err := configAndStore(ctx, *path)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); err != nil {
		return err
	}
	switch sub {
	case "create":
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		token := "est_" + base64.RawURLEncoding.EncodeToString(b)
		if err := s.CreateAPIToken(ctx, name, *scope, token); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", token)
		fmt.Fprintf(e.stderr, "token %q (%s) created; it is shown only now: use it as Authorization: Bearer TOKEN\n", name, *scope)
	case "list":
		toks, err := s.APITokens(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSCOPE\tCREATED\tLAST USED\tREVOKED")
		for _, t := range toks {
			used, revoked := "never", ""
			if t.LastUsedAt.Valid {
				used = t.LastUsedAt.Time.UTC().Format("2006-01-02 15:04")
			}
			if t.RevokedAt.Valid {
				revoked = t.RevokedAt.Time.UTC().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Scope, t.CreatedAt.UTC().Format("2006-01-02 15:04"), used, revoked)
		}
		return tw.Flush()
	case "revoke":
		if err := s.RevokeAPIToken(ctx, name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %q revoked\n", name)
	default:
		return usagef("unknown tokens command %q: want create, list or revoke", sub)
	}
	return nil
}
