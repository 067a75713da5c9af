package imap

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// startTLSServer serves the in-memory server over implicit TLS or with
// STARTTLS; plaintext LOGIN is refused either way.
func startTLSServer(t *testing.T, implicit bool, cert tls.Certificate) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(memUser, memPass)
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      goimap.CapSet{goimap.CapIMAP4rev1: {}},
		TLSConfig: tlsCfg,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve := ln
	if implicit {
		serve = tls.NewListener(ln, tlsCfg)
	}
	go func() { _ = srv.Serve(serve) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func TestTLSModes(t *testing.T) {
	cert, pool := testenv.SelfSigned(t)
	for _, tc := range []struct {
		name     string
		implicit bool
		mode     string
	}{
		{"implicit", true, TLSImplicit},
		{"starttls", false, TLSStartTLS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startTLSServer(t, tc.implicit, cert)
			cfg := loopbackConfig(t, addr, memUser, memPass)
			cfg.TLS = tc.mode
			ctx := context.Background()

			trusting := newSource(t, openSQLite(t), cfg, &Options{TLSConfig: &tls.Config{RootCAs: pool}})
			if _, err := trusting.SyncOnce(ctx); err != nil {
				t.Fatalf("sync with the certificate trusted: %v", err)
			}
			doubting := newSource(t, openSQLite(t), cfg, nil)
			_, err := doubting.SyncOnce(ctx)
			if !IsPermanent(err) || doubting.Status().DisabledReason != "tls certificate rejected" {
				t.Fatalf("sync with an unknown certificate: %v, status %+v; want disabled", err, doubting.Status())
			}
		})
	}
}

// Without TLS this server refuses LOGIN; the source must say so instead of
// sending the password.
func TestLoginDisabledWithoutTLS(t *testing.T) {
	cert, _ := testenv.SelfSigned(t)
	addr := startTLSServer(t, false, cert)
	s := newSource(t, openSQLite(t), loopbackConfig(t, addr, memUser, memPass), nil)
	_, err := s.SyncOnce(context.Background())
	if !IsPermanent(err) || s.Status().DisabledReason != "server disables login on this connection" {
		t.Fatalf("sync: %v, status %+v", err, s.Status())
	}
}
