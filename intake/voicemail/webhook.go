package voicemail

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"

	twclient "github.com/twilio/twilio-go/client"
)

// Webhook paths, relative to the public URL.
const (
	RecordingPath = "/twilio/recording"
	VoicePath     = "/twilio/voice"
)

// maxWebhookBody caps a callback's form body; Twilio's are under 2 KB.
const maxWebhookBody = 64 << 10

// Handler serves Twilio's webhooks; the web server mounts it for both
// paths:
//
//   - POST /twilio/recording, the recording-status callback: the
//     recording is fetched, downloaded and stored at once.
//   - POST /twilio/voice, a call to the number: TwiML that greets the
//     caller and records a voicemail whose status callback comes back to
//     /twilio/recording.
//
// Every request must carry a valid X-Twilio-Signature for the public URL
// Twilio called; others get 403 and count in
// earshot_twilio_webhook_rejected_total.
func (s *Source) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+RecordingPath, s.signed(s.recordingCallback))
	mux.HandleFunc("POST "+VoicePath, s.signed(s.voice))
	return mux
}

// signed checks the request's signature, then calls next with the form.
func (s *Source) signed(next func(http.ResponseWriter, *http.Request, url.Values)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		full := s.publicBase(r) + r.URL.RequestURI()
		sig := r.Header.Get("X-Twilio-Signature")
		rv := twclient.NewRequestValidator(s.cfg.AuthToken)
		if sig == "" || !rv.ValidateBody(full, body, sig) {
			s.metrics.rejected.Inc()
			s.log.Warn("webhook signature rejected", "path", r.URL.Path, "signed", sig != "",
				"url", full, "hint", "http.public_url must be the URL Twilio calls")
			http.Error(w, "invalid twilio signature", http.StatusForbidden)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		next(w, r, form)
	}
}

// publicBase is the scheme and host (and path prefix) Twilio called: the
// configured public URL, or what the request says without one.
func (s *Source) publicBase(r *http.Request) string {
	if b := s.cfg.publicBase(); b != "" {
		return b
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// recordingCallback ingests the recording a status callback names.
// Statuses other than completed (absent, failed) have nothing to fetch.
// A failure answers 503; the poller picks the recording up anyway.
func (s *Source) recordingCallback(w http.ResponseWriter, r *http.Request, form url.Values) {
	sid, status := form.Get("RecordingSid"), form.Get("RecordingStatus")
	if !recordingSID.MatchString(sid) {
		http.Error(w, "RecordingSid missing or malformed", http.StatusBadRequest)
		return
	}
	if status != "" && status != statusCompleted {
		s.log.Info("recording callback without audio", "recording_sid", sid, "status", status)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.WebhookTimeout)
	defer cancel()
	if _, err := s.IngestRecording(ctx, sid); err != nil {
		s.metrics.errors.Inc()
		s.log.Warn("webhook ingest failed; the poller will retry", "recording_sid", sid, "err", err)
		http.Error(w, "recording not stored yet", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// voice answers a call with the TwiML that records a voicemail, or, when
// Twilio posts the finished recording to the Record verb's action, with a
// goodbye.
func (s *Source) voice(w http.ResponseWriter, r *http.Request, form url.Values) {
	base := s.publicBase(r)
	var doc []byte
	var err error
	if form.Get("RecordingUrl") != "" || form.Get("RecordingSid") != "" {
		doc, err = goodbyeTwiML()
	} else {
		s.recordAttestation(r.Context(), form.Get("CallSid"), form.Get("StirVerstat"))
		doc, err = recordTwiML(s.cfg, base+VoicePath, base+RecordingPath)
	}
	if err != nil {
		s.log.Error("render twiml", "err", err)
		http.Error(w, "cannot render twiml", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(doc)
}

// recordAttestation keeps the STIR/SHAKEN attestation Twilio passes with
// an incoming call (StirVerstat, e.g. TN-Validation-Passed-A), so that
// the call's voicemail is credited only when the caller number was
// attested. A call without one is flagged for a manager later; a failure
// to keep it is logged and does not fail the call.
func (s *Source) recordAttestation(ctx context.Context, callSID, verstat string) {
	if callSID == "" || verstat == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.sink.RecordAttestation(ctx, callSID, verstat); err != nil {
		s.log.Warn("cannot keep the call's attestation", "call_sid", callSID, "err", err)
	}
}
