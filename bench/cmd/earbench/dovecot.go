package main

import (
	"github.com/earshot-dev/earshot/internal/dovecot"
)

// startDovecot lays out a private Dovecot (the tests' own harness) under
// dir and starts it.
func startDovecot(bin, dir string) (*dovecot.Server, error) {
	d, err := dovecot.New(bin, dir)
	if err != nil {
		return nil, err
	}
	return d, d.Start()
}
