package config

import (
	"net"
	"time"
)

// httpLimits checks the HTTP server's deadlines, sizes and connection caps.
func (v *validator) httpLimits() {
	h := v.c.HTTP
	if h.OpsListen != "" {
		if _, _, err := net.SplitHostPort(h.OpsListen); err != nil {
			v.errf("http.ops_listen", "want host:port: %v", err)
		} else if h.OpsListen == h.Listen {
			v.errf("http.ops_listen", "must differ from http.listen (%s)", h.Listen)
		}
	}
	if h.ReadHeaderTimeout < time.Second {
		v.errf("http.read_header_timeout", "must be at least 1s")
	}
	if h.ReadTimeout < h.ReadHeaderTimeout {
		v.errf("http.read_timeout", "must be at least http.read_header_timeout (%s): it includes the headers", h.ReadHeaderTimeout)
	}
	if h.WriteTimeout < time.Second {
		v.errf("http.write_timeout", "must be at least 1s")
	}
	if h.DownloadTimeout < h.WriteTimeout {
		v.errf("http.download_timeout", "must be at least http.write_timeout (%s)", h.WriteTimeout)
	}
	if h.IdleTimeout < time.Second {
		v.errf("http.idle_timeout", "must be at least 1s")
	}
	if h.MaxHeaderBytes < 4<<10 || h.MaxHeaderBytes > 1<<20 {
		v.errf("http.max_header_bytes", "must be 4096-1048576, got %d", h.MaxHeaderBytes)
	}
	if h.MaxConnections < 16 {
		v.errf("http.max_connections", "must be at least 16, got %d", h.MaxConnections)
	}
	if h.MaxConnectionsPerClient < 1 || h.MaxConnectionsPerClient > h.MaxConnections {
		v.errf("http.max_connections_per_client", "must be 1 to http.max_connections (%d), got %d", h.MaxConnections, h.MaxConnectionsPerClient)
	}
}
