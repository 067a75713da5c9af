package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/earshot-dev/earshot/web"
)

// cmdHashPassword is `earshot hash-password`: a bcrypt hash of a password
// read from standard input, for web.users[].password_hash.
func cmdHashPassword(_ context.Context, e *env, args []string) error {
	fs, _ := flags("hash-password", e)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("the password is read from standard input, not from the command line")
	}
	fmt.Fprint(e.stderr, "password: ")
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && err != io.EOF {
		return err
	}
	hash, err := web.HashPassword(strings.TrimRight(line, "\r\n"))
	if err != nil {
		return usageError{err.Error()}
	}
	fmt.Fprintln(e.stderr)
	fmt.Fprintln(e.stdout, hash)
	return nil
}
