//go:build unix

package web

import (
	"log/slog"
	"syscall"
)

// fileHeadroom is what the process needs open besides HTTP connections:
// database and mail connections, files, the listeners.
const fileHeadroom = 128

// warnFileLimit says when the connection cap does not fit under the
// process's open-file limit: accepting would then fail with "too many
// open files" before the cap refuses anything.
func warnFileLimit(log *slog.Logger, total int) {
	var lim syscall.Rlimit
	if total <= 0 || syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return
	}
	if uint64(total)+fileHeadroom > uint64(lim.Cur) {
		log.Warn("http.max_connections does not fit under the open-file limit: raise the limit (LimitNOFILE, ulimit -n) or lower the cap",
			"max_connections", total, "open_file_limit", lim.Cur)
	}
}
