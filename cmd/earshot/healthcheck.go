package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck asks a running daemon's /healthz; it is the container's
// HEALTHCHECK.
func cmdHealthcheck(ctx context.Context, e *env, args []string) error {
	fs, path := flags("healthcheck", e)
	url := fs.String("url", "", "`URL` to check (default: http://127.0.0.1:PORT/healthz with the port of http.listen)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *url == "" {
		c, err := loadConfig(*path)
		if err != nil {
			return err
		}
		_, port, err := net.SplitHostPort(c.HTTP.Listen)
		if err != nil {
			return configError{fmt.Errorf("http.listen: %w", err)}
		}
		*url = "http://127.0.0.1:" + port + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageError{err.Error()}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
