package imap

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/source"
)

// metrics are one source's series; every vector has the single label
// "source", so several sources share one registry.
type metrics struct {
	ingested    prometheus.Counter
	errors      prometheus.Counter
	afterFailed prometheus.Counter
	lastSuccess prometheus.Gauge
	connected   prometheus.Gauge
	disabled    prometheus.Gauge
	uidValidity prometheus.Counter
	shortReads  prometheus.Counter
}

// newMetrics registers the IMAP vectors with reg (reusing vectors another
// source registered already) and returns the series of the source named
// name. A nil reg
// keeps the series unregistered.
func newMetrics(reg prometheus.Registerer, name string) (*metrics, error) {
	counter := func(metric, help string) (prometheus.Counter, error) {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "earshot", Subsystem: "imap", Name: metric, Help: help}, []string{"source"})
		v, err := source.Register(reg, v)
		if err != nil {
			return nil, err
		}
		return v.WithLabelValues(name), nil
	}
	gauge := func(metric, help string) (prometheus.Gauge, error) {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "earshot", Subsystem: "imap", Name: metric, Help: help}, []string{"source"})
		v, err := source.Register(reg, v)
		if err != nil {
			return nil, err
		}
		return v.WithLabelValues(name), nil
	}
	var m metrics
	var errs [8]error
	m.ingested, errs[0] = counter("messages_ingested_total", "Messages stored from the IMAP folder (new items and links to stored ones).")
	m.errors, errs[1] = counter("errors_total", "Failed connections, syncs and idle waits.")
	m.afterFailed, errs[2] = counter("after_ingest_failures_total", "Messages whose after_ingest step (seen, move) failed and is retried.")
	m.uidValidity, errs[3] = counter("uidvalidity_changes_total", "UIDVALIDITY changes that made the source re-scan its folder.")
	m.lastSuccess, errs[4] = gauge("last_success_timestamp_seconds", "Unix time of the last successful sync.")
	m.connected, errs[5] = gauge("connected", "1 while the source holds a logged-in IMAP connection.")
	m.disabled, errs[6] = gauge("disabled", "1 while the source is disabled by a permanent error.")
	m.shortReads, errs[7] = counter("short_reads_total", "Syncs that stopped before a message the server sent shorter than it announced (RFC822.SIZE).")
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &m, nil
}

// boolGauge converts a flag to a gauge value.
func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
