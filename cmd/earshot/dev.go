package main

import (
	"context"
	"flag"
	"log/slog"
	"os"

	"github.com/earshot-dev/earshot/dev"
)

// cmdDev is `earshot dev`: the whole product on 127.0.0.1 with nothing to
// install — SQLite, an in-memory IMAP server, an SMTP capture server and
// the dashboard, seeded with sample contributions.
func cmdDev(ctx context.Context, e *env, args []string) error {
	fs, _ := flags("dev", e)
	p := dev.DefaultPorts()
	dir := fs.String("dir", "earshot-dev", "`directory` for the SQLite database and the generated config")
	smoke := fs.Bool("smoke", false, "process the samples, check every one is processed and acknowledged, and exit")
	fs.IntVar(&p.HTTP, "http", p.HTTP, "dashboard `port`")
	fs.IntVar(&p.IMAP, "imap", p.IMAP, "IMAP `port`")
	fs.IntVar(&p.SMTP, "smtp", p.SMTP, "SMTP capture `port`")
	verbose := fs.Bool("v", false, "log every step of the pipeline")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dirGiven := false
	fs.Visit(func(f *flag.Flag) { dirGiven = dirGiven || f.Name == "dir" })
	if *smoke && !dirGiven {
		tmp, err := os.MkdirTemp("", "earshot-dev-smoke-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	lvl := slog.LevelWarn
	if *verbose {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
	return dev.Run(ctx, dev.Options{Dir: *dir, Ports: p, Smoke: *smoke, Out: e.stdout, Log: log})
}
