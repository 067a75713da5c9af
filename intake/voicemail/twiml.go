package voicemail

import (
	"encoding/xml"
	"fmt"
)

// twimlResponse is a TwiML document: verbs run in order.
type twimlResponse struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []any
}

type sayVerb struct {
	XMLName xml.Name `xml:"Say"`
	Text    string   `xml:",chardata"`
}

type hangupVerb struct {
	XMLName xml.Name `xml:"Hangup"`
}

// recordVerb records the caller. Twilio posts the finished recording to
// Action (which answers with a goodbye) and its status to the callback.
type recordVerb struct {
	XMLName        xml.Name `xml:"Record"`
	Action         string   `xml:"action,attr"`
	Method         string   `xml:"method,attr"`
	MaxLength      int      `xml:"maxLength,attr"`
	Timeout        int      `xml:"timeout,attr"`
	PlayBeep       bool     `xml:"playBeep,attr"`
	Trim           string   `xml:"trim,attr"`
	FinishOnKey    string   `xml:"finishOnKey,attr"`
	Callback       string   `xml:"recordingStatusCallback,attr"`
	CallbackMethod string   `xml:"recordingStatusCallbackMethod,attr"`
	CallbackEvent  string   `xml:"recordingStatusCallbackEvent,attr"`
	Transcribe     bool     `xml:"transcribe,attr,omitempty"`
}

// recordTwiML greets the caller and records a voicemail whose completion
// Twilio reports to callbackURL. If the caller says nothing, the verbs
// after Record run: a short apology, then hang up.
func recordTwiML(cfg Config, actionURL, callbackURL string) ([]byte, error) {
	return render(twimlResponse{Verbs: []any{
		sayVerb{Text: cfg.Greeting},
		recordVerb{
			Action: actionURL, Method: "POST",
			MaxLength: int(cfg.MaxRecordingLength.Seconds()), Timeout: 10, PlayBeep: true,
			Trim: "trim-silence", FinishOnKey: "#",
			Callback: callbackURL, CallbackMethod: "POST", CallbackEvent: "completed absent",
			Transcribe: cfg.Transcribe,
		},
		sayVerb{Text: "We did not get a message. Goodbye."},
		hangupVerb{},
	}})
}

// goodbyeTwiML ends the call after a recording.
func goodbyeTwiML() ([]byte, error) {
	return render(twimlResponse{Verbs: []any{sayVerb{Text: "Thanks, your message is in. Goodbye."}, hangupVerb{}}})
}

func render(r twimlResponse) ([]byte, error) {
	b, err := xml.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("twiml: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}
