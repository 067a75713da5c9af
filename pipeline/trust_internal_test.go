package pipeline

import (
	"context"
	"fmt"
	"testing"

	"github.com/earshot-dev/earshot/model"
)

// gateStore knows one rep by phone and the attestations of some calls.
type gateStore struct {
	attestations map[string]string
	review       *model.Review
}

func (g gateStore) RepByContact(ctx context.Context, kind, value string) (model.Rep, error) {
	if kind == "phone" && value == "+14155550101" {
		return model.Rep{ID: 7, Name: "Dana Reyes"}, nil
	}
	return model.Rep{}, fmt.Errorf("%s %s: %w", kind, value, model.ErrNotFound)
}

func (g gateStore) ItemReview(ctx context.Context, itemID int64) (model.Review, bool, error) {
	if g.review == nil {
		return model.Review{}, false, nil
	}
	return *g.review, true, nil
}

func (g gateStore) CallAttestation(ctx context.Context, callSID string) (string, bool, error) {
	v, ok := g.attestations[callSID]
	return v, ok, nil
}

// A call is credited to the rep with its caller number only with a
// STIR/SHAKEN attestation at least as strong as configured (Twilio's
// StirVerstat); otherwise it waits for a manager.
func TestGateVoicemailAttestation(t *testing.T) {
	st := gateStore{attestations: map[string]string{
		"CA-A": "TN-Validation-Passed-A", "CA-B": "TN-Validation-Passed-B", "CA-C": "TN-Validation-Passed-C",
		"CA-failed": "TN-Validation-Failed",
	}}
	for _, c := range []struct {
		weakest, caller, call string
		want                  model.Trust
	}{
		{"A", "+14155550101", "CA-A", model.TrustRep},
		{"A", "+14155550101", "CA-B", model.TrustUnverified},
		{"B", "+14155550101", "CA-B", model.TrustRep},
		{"B", "+14155550101", "CA-C", model.TrustUnverified},
		{"C", "+14155550101", "CA-C", model.TrustRep},
		{"C", "+14155550101", "CA-failed", model.TrustUnverified},
		{"A", "+14155550101", "CA-none", model.TrustUnverified},
		{"none", "+14155550101", "CA-none", model.TrustRep},
		{"A", "+14155550199", "CA-A", model.TrustStranger},
		{"A", "", "CA-A", model.TrustStranger},
	} {
		g := &Gate{Store: st, Attestation: c.weakest}
		got, err := g.voicemail(context.Background(), model.Item{ID: 1}, c.caller, c.call)
		if err != nil {
			t.Fatal(err)
		}
		if got.Trust != c.want || (got.RepID != 0) != (c.want == model.TrustRep) {
			t.Errorf("attestation %s, caller %q, call %s: %s (%s) rep %d; want %s", c.weakest, c.caller, c.call,
				got.Trust, got.Reason, got.RepID, c.want)
		}
	}
}
