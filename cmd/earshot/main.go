// Command earshot turns what sales reps hear in the field into routed,
// acknowledged, counted product feedback and competitor intel.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// usageError makes main exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand.
type command struct {
	name, args, help string
	run              func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its output streams and the environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() []command {
	return []command{
		{"run", "-c FILE [-no-migrate]", "run the daemon", cmdRun},
		{"dev", "[-smoke] [-dir DIR]", "run everything embedded on 127.0.0.1 with sample data", cmdDev},
		{"check-config", "-c FILE", "validate the config and print what was understood (secrets as ***)", cmdCheckConfig},
		{"migrate", "-c FILE up|status", "apply or list database migrations", cmdMigrate},
		{"reps", "-c FILE import [-region US] FILE.csv", "import reps from a CSV roster", cmdReps},
		{"sources", "-c FILE", "show each source's cursor, last success, lag and state", cmdSources},
		{"route", "-c FILE test (FILE.eml | -text T)", "show the tags and the route a message would take", cmdRoute},
		{"points", "-c FILE adjust -rep R -points N -reason T", "adjust a rep's points (kept in the ledger with the reason)", cmdPoints},
		{"templates", "-c FILE preview [-item ID] [-kind K]", "render an ack, notice or digest to stdout", cmdTemplates},
		{"triage", "-c FILE [-owner O] ID…|-list", "mark items triaged (ends SLA reminders) or list untriaged ones", cmdTriage},
		{"tokens", "-c FILE create NAME -scope read|write | list | revoke NAME", "manage bearer tokens of the JSON API", cmdTokens},
		{"reprocess", "-c FILE [ID…]", "retry quarantined items, or the given items", cmdReprocess},
		{"hash-password", "< password", "print a bcrypt hash for web.users[].password_hash", cmdHashPassword},
		{"healthcheck", "[-c FILE] [-url URL]", "exit 0 when the running daemon answers /healthz", cmdHealthcheck},
		{"version", "", "print the version", cmdVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and turns its error into an exit code:
// 2 for usage and configuration errors, 1 for everything else.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(e.stderr, "earshot %s: %v\n", c.name, err)
		var ue usageError
		var ce configError
		if errors.As(err, &ue) || errors.As(err, &ce) {
			return 2
		}
		return 1
	}
	fmt.Fprintf(e.stderr, "earshot: unknown command %q\n", args[0])
	usage(e.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: earshot COMMAND [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %-38s %s\n", c.name, c.args, c.help)
	}
}

func cmdVersion(_ context.Context, e *env, _ []string) error {
	fmt.Fprintln(e.stdout, "earshot", version)
	return nil
}
