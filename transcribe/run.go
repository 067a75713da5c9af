package transcribe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// maxOutput caps what is kept of a program's stdout and stderr.
const maxOutput = 1 << 20

// errTimeout marks a program killed at its time limit.
var errTimeout = errors.New("time limit reached")

// run runs argv with a time limit, killing its whole process group when
// the limit passes or ctx ends. It returns stdout and stderr; on failure
// the error ends with the last line of stderr.
func run(ctx context.Context, limit time.Duration, argv []string) (stdout, stderr []byte, err error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	ownGroup(cmd)
	// Wait returns this long after a kill even if a grandchild still holds
	// the output pipes open.
	cmd.WaitDelay = 2 * time.Second
	var out, errOut capped
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	switch {
	case err == nil:
		return out.Bytes(), errOut.Bytes(), nil
	case parent.Err() != nil:
		return nil, errOut.Bytes(), fmt.Errorf("%s: %w", argv[0], parent.Err())
	case ctx.Err() != nil:
		return nil, errOut.Bytes(), fmt.Errorf("%s: killed after %s: %w", argv[0], limit, errTimeout)
	}
	return nil, errOut.Bytes(), fmt.Errorf("%s: %w%s", argv[0], err, tail(errOut.Bytes()))
}

// tail returns the last line of a program's error output, for messages.
func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[len(s)-300:]
	}
	return ": " + s
}

// capped is a buffer that keeps the first maxOutput bytes and drops the
// rest, so a runaway program cannot exhaust memory.
type capped struct{ bytes.Buffer }

// Write keeps what fits and reports everything written.
func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
