package outbound_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/testenv"
	"github.com/earshot-dev/earshot/model"
	"github.com/earshot-dev/earshot/outbound"
	"github.com/earshot-dev/earshot/templates"
)

// twilioConfig points at Prism. Twilio's SDK insists on alphanumeric
// credentials.
func twilioConfig(api, sid string) config.Twilio {
	return config.Twilio{AccountSID: sid, AuthToken: "prismtoken1", APIURL: api, PhoneNumber: "+15555550199"}
}

// TestSMSAckValidatedByPrism sends an SMS ack through the worker to Prism,
// which validates each request against Twilio's OpenAPI description: a
// malformed request would come back as 422.
func TestSMSAckValidatedByPrism(t *testing.T) {
	api := testenv.Prism(t)
	ctx := context.Background()
	s := openStore(t, testenv.NewClock(time.Now()))
	c := composer(t, smtpConfig(t, "127.0.0.1:25"))
	ct := contribution(unique())
	ct.Item.Kind, ct.CallerNumber = "voicemail", "+15555550100"
	msg, err := c.AckSMS(ct, ct.CallerNumber)
	if err != nil {
		t.Fatal(err)
	}
	if seg := templates.CountSegments(string(msg.Body)); seg.Encoding != templates.GSM7 || seg.Count > 2 {
		t.Errorf("sms ack %q: %+v", msg.Body, seg)
	}
	item := enqueue(t, s, msg)
	sms, err := outbound.NewSMS(twilioConfig(api, "AC0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	w, reg := worker(s, map[model.Channel]outbound.Sender{"sms": sms})
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("run once = %d, %v", n, err)
	}
	m, _ := s.ItemOutbox(ctx, item)
	if m[0].State != model.OutboxSent || !strings.HasPrefix(m[0].ProviderID, "SM") {
		t.Fatalf("row = %s, provider id %q, error %q; want sent with a Message SID", m[0].State, m[0].ProviderID, m[0].LastError)
	}
	metric(t, reg, "earshot_outbox_sent_total", `earshot_outbox_sent_total{channel="sms"} 1`)
}

func TestSMSRejectedRequestIsPermanent(t *testing.T) {
	api := testenv.Prism(t)
	// An account SID that is alphanumeric (the SDK accepts it) but not
	// AC + 32 hex digits: Prism answers 422, as Twilio would answer 4xx.
	sms, err := outbound.NewSMS(twilioConfig(api, "ACnothexnothexnothexnothexnothexno"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = sms.Send(context.Background(), model.OutboxMessage{Recipient: "+15555550100", Body: []byte("hi")})
	if err == nil || !outbound.IsPermanent(err) || !strings.Contains(err.Error(), "422") {
		t.Errorf("send = %v, want a permanent 422", err)
	}
}

func TestNewSMS(t *testing.T) {
	cases := []struct {
		name string
		c    config.Twilio
		ok   bool
	}{
		{"complete", config.Twilio{AccountSID: "AC1", AuthToken: "t", PhoneNumber: "+15555550199"}, true},
		{"no number to send from", config.Twilio{AccountSID: "AC1", AuthToken: "t"}, false},
		{"no token", config.Twilio{AccountSID: "AC1", PhoneNumber: "+15555550199"}, false},
		{"a bad api url", config.Twilio{AccountSID: "AC1", AuthToken: "t", PhoneNumber: "+1", APIURL: "::"}, false},
	}
	for _, c := range cases {
		if _, err := outbound.NewSMS(c.c); (err == nil) != c.ok {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
}
