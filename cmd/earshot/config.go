package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/routing"
	"github.com/earshot-dev/earshot/store"
)

// configError marks a configuration that cannot be used (exit status 2).
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// flags makes a flag set with the -c flag every command takes.
func flags(name string, e *env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("earshot "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := e.getenv("EARSHOT_CONFIG")
	if def == "" {
		def = "earshot.yaml"
	}
	path := fs.String("c", def, "config `file` (env EARSHOT_CONFIG)")
	return fs, path
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

func loadConfig(path string) (*config.Config, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, configError{err}
	}
	return c, nil
}

// openStore connects to the configured database, giving up after 5 s.
func openStore(ctx context.Context, c *config.Config) (*store.Store, error) {
	return openStoreLog(ctx, c, nil)
}

// openStoreLog is openStore telling log what opening changed (an SQLite
// file made private); slog.Default() when nil.
func openStoreLog(ctx context.Context, c *config.Config, log *slog.Logger) (*store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	s, err := store.Open(ctx, c.Database.Value(), &store.Options{ConnectTimeout: 5 * time.Second, Logger: log})
	if err != nil {
		if strings.Contains(err.Error(), "database url") {
			return nil, configError{err}
		}
		return nil, err
	}
	return s, nil
}

// configAndStore loads the config and connects to its database; the
// caller closes the store.
func configAndStore(ctx context.Context, path string) (*config.Config, *store.Store, error) {
	c, err := loadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	s, err := openStore(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	return c, s, nil
}

func cmdCheckConfig(_ context.Context, e *env, args []string) error {
	fs, path := flags("check-config", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := loadConfig(*path)
	if err != nil {
		return err
	}
	out, err := c.Print()
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "# %s is valid; this is what earshot understood:\n%s", *path, out)
	for _, n := range routing.EntityOwnerNotes(c.Competitors, c.Products) {
		fmt.Fprintf(e.stdout, "# routing: %s\n", n)
	}
	if c.Route.Owner != "" {
		fmt.Fprintf(e.stdout, "# routing: route.owner: %s receives what no route takes, if it has a category; an item without one goes to nobody unless a route matches it\n", c.Route.Owner)
	}
	printWarnings(e.stdout, c)
	return nil
}

func printWarnings(w io.Writer, c *config.Config) {
	for _, p := range c.Warnings() {
		fmt.Fprintf(w, "# warning: %s\n", p)
	}
}
