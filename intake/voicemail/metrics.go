package voicemail

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/intake/source"
)

// metrics are the Twilio source's series.
type metrics struct {
	ingested     prometheus.Counter
	errors       prometheus.Counter
	mediaRetries prometheus.Counter
	deleteFailed prometheus.Counter
	rejected     prometheus.Counter
	lastSuccess  prometheus.Gauge
	disabled     prometheus.Gauge
}

// newMetrics registers the earshot_twilio_* series with reg (reusing ones
// registered before); a nil reg keeps them unregistered.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var errs []error
	counter := func(name, help string) prometheus.Counter {
		c, err := source.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Namespace: "earshot", Subsystem: "twilio", Name: name, Help: help}))
		errs = append(errs, err)
		return c
	}
	gauge := func(name, help string) prometheus.Gauge {
		g, err := source.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "earshot", Subsystem: "twilio", Name: name, Help: help}))
		errs = append(errs, err)
		return g
	}
	m := &metrics{
		ingested:     counter("recordings_ingested_total", "Recordings stored from Twilio."),
		errors:       counter("errors_total", "Failed listings, downloads and webhook ingests."),
		mediaRetries: counter("media_retries_total", "Media downloads that needed another try."),
		deleteFailed: counter("delete_failures_total", "Recordings whose deletion at Twilio after ingest failed (retried on the next poll)."),
		rejected:     counter("webhook_rejected_total", "Webhook requests refused for a missing or wrong X-Twilio-Signature."),
		lastSuccess:  gauge("last_success_timestamp_seconds", "Unix time of the last successful poll."),
		disabled:     gauge("disabled", "1 while the source is disabled by a permanent error."),
	}
	return m, errors.Join(errs...)
}
