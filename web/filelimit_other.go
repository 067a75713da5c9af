//go:build !unix

package web

import "log/slog"

// warnFileLimit has no limit to compare with here.
func warnFileLimit(*slog.Logger, int) {}
