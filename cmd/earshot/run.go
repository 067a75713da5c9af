package main

import (
	"context"
	"io"
	"log/slog"
	"strings"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/pipeline"
)

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs, path := flags("run", e)
	noMigrate := fs.Bool("no-migrate", false, "do not migrate the database on start; refuse an outdated schema instead")
	intakeOnly := fs.Bool("intake-only", false, "run the sources and the HTTP endpoints only: store what arrives and leave processing, acks and digests to other replicas")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(*path)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, c.Log)
	for _, p := range c.Warnings() {
		log.Warn("config", "warning", p.String())
	}
	s, err := openStoreLog(ctx, c, log.With("component", "store"))
	if err != nil {
		return err
	}
	defer s.Close()
	if *noMigrate {
		if err := s.CheckSchema(ctx); err != nil {
			return err
		}
	} else {
		n, err := s.Migrate(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			log.Info("database migrated", "applied", n)
		}
	}
	d, err := pipeline.New(c, s, log, &pipeline.Options{IntakeOnly: *intakeOnly})
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// newLogger builds the slog logger the config asks for.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var lvl slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
