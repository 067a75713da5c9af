package dev

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// The local Twilio account of `earshot dev`: letters and digits only, as
// Twilio's credentials are.
const (
	TwilioAccount = "AC00000000000000000000000000000de0"
	TwilioToken   = "devtoken0"
	TwilioNumber  = "+14155550100"
	recordingSID  = "RE00000000000000000000000000000001"
	callSID       = "CA00000000000000000000000000000001"
	// twilioCaller is Ravi's number in the sample roster.
	twilioCaller = "+442079460958"
)

// TwilioFake answers the few Twilio REST calls the voicemail source makes,
// for one recorded voicemail, so that `earshot dev` shows the Twilio path
// without an account: the recordings list, a recording, its call, its
// media. It is a local stand-in with Twilio's shapes, not a mock of the
// whole API.
type TwilioFake struct {
	URL     string
	srv     *http.Server
	created time.Time
	audio   []byte
}

// StartTwilioFake serves on a free loopback port.
func StartTwilioFake(audio []byte) (*TwilioFake, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("dev twilio: %w", err)
	}
	f := &TwilioFake{URL: "http://" + ln.Addr().String(), created: time.Now().UTC().Add(-time.Minute), audio: audio}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

// Close stops the server.
func (f *TwilioFake) Close() error { return f.srv.Close() }

func (f *TwilioFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u, p, ok := r.BasicAuth(); !ok || u != TwilioAccount || p != TwilioToken {
		twilioJSON(w, http.StatusUnauthorized, map[string]any{"code": 20003, "message": "Authenticate", "status": 401})
		return
	}
	rest, _ := strings.CutPrefix(r.URL.Path, "/2010-04-01/Accounts/"+TwilioAccount+"/")
	switch rest {
	case "Recordings.json":
		twilioJSON(w, http.StatusOK, map[string]any{"recordings": []any{f.recording()}, "page": 0, "page_size": 50,
			"next_page_uri": nil, "uri": r.URL.RequestURI(), "first_page_uri": r.URL.Path})
	case "Recordings/" + recordingSID + ".json":
		twilioJSON(w, http.StatusOK, f.recording())
	case "Recordings/" + recordingSID + ".wav", "Recordings/" + recordingSID:
		w.Header().Set("Content-Type", "audio/x-wav")
		w.Write(f.audio)
	case "Calls/" + callSID + ".json":
		twilioJSON(w, http.StatusOK, map[string]any{"sid": callSID, "account_sid": TwilioAccount,
			"from": twilioCaller, "to": TwilioNumber, "direction": "inbound", "status": "completed"})
	default:
		twilioJSON(w, http.StatusNotFound, map[string]any{"code": 20404, "message": "The requested resource was not found", "status": 404})
	}
}

func (f *TwilioFake) recording() map[string]any {
	return map[string]any{"sid": recordingSID, "account_sid": TwilioAccount, "call_sid": callSID,
		"status": "completed", "date_created": f.created.Format(time.RFC1123Z), "duration": "6", "channels": 1,
		"source": "RecordVerb", "media_url": f.URL + "/2010-04-01/Accounts/" + TwilioAccount + "/Recordings/" + recordingSID}
}

func twilioJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
