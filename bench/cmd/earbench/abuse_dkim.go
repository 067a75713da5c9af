package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// repSelector is the DKIM selector of the rep's domain in the abuse run.
const repSelector = "abuse"

// startRepDNS makes a signing key for the rep's domain and serves its DKIM
// key and a DMARC record of p=reject from a stub DNS, which the daemon's
// dns.resolver points at.
func startRepDNS() (ed25519.PrivateKey, *dnsStub, error) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	_, domain, _ := strings.Cut(repAddr, "@")
	dns, err := startDNSStub(map[string][]string{
		repSelector + "._domainkey." + domain: {"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)},
		"_dmarc." + domain:                    {"v=DMARC1; p=reject"},
	})
	return key, dns, err
}

// sign DKIM-signs raw as the rep's domain with the key the stub DNS
// publishes.
func (a *attacker) sign(raw []byte) ([]byte, error) {
	_, domain, _ := strings.Cut(repAddr, "@")
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: domain, Selector: repSelector, Signer: a.repKey,
		HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"},
	})
	return out.Bytes(), err
}

// messageID returns raw's Message-ID without angle brackets.
func messageID(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return strings.Trim(m.Header.Get("Message-ID"), "<> ")
}

// signedRep is the rep's own mail, DKIM-signed by the rep's domain: the
// daemon verifies it against the key in DNS and credits the rep. It shows
// that the other attacks fail on the sender check, not for want of one.
func (a *attacker) signedRep(r *abuseReport) error {
	m, err := a.sign(a.mail("Dana Reyes <"+repAddr+">", feedbackAddr, "Acme roadmap, signed", "", "Acme ships SSO next quarter."))
	if err != nil {
		return err
	}
	if err := a.send(feedbackAddr, m); err != nil {
		return err
	}
	points, err := a.obs.count(a.ctx, `select coalesce(sum(l.points), 0) from points_ledger l join items i on i.id = l.item_id
		where i.subject = 'Acme roadmap, signed' and i.trust = 'rep'`)
	if err != nil {
		return err
	}
	acked, err := a.waitAck(messageID(m))
	if err != nil {
		return err
	}
	r.add("the rep's own mail, DKIM-signed (stub DNS)", "verified: points and an ack",
		points > 0 && acked, "%d points, ack delivered %v", points, acked)
	return nil
}

// alteredRep is the rep's signed mail with its body changed on the way
// (or a signature replayed onto other text): the signature no longer
// verifies, so nothing is credited.
func (a *attacker) alteredRep(r *abuseReport) error {
	m, err := a.sign(a.mail("Dana Reyes <"+repAddr+">", feedbackAddr, "Acme discount, altered", "", "Acme offers 10% off."))
	if err != nil {
		return err
	}
	m = bytes.Replace(m, []byte("10% off"), []byte("90% off"), 1)
	deliveries := a.snk.Counts().Deliveries
	if err := a.send(feedbackAddr, m); err != nil {
		return err
	}
	points, err := a.obs.count(a.ctx, `select coalesce(sum(l.points), 0) from points_ledger l join items i on i.id = l.item_id where i.subject = 'Acme discount, altered'`)
	if err != nil {
		return err
	}
	flagged, err := a.obs.count(a.ctx, `select count(*) from items where subject = 'Acme discount, altered' and trust = 'unverified'`)
	if err != nil {
		return err
	}
	sent := a.snk.Counts().Deliveries - deliveries
	r.add("the rep's signed mail, body altered", "0 points, no ack, item flagged unverified",
		points == 0 && flagged == 1 && sent == 0, "%d points, %d messages sent, %d item flagged", points, sent, flagged)
	return nil
}

// waitAck waits until the sink has an ack answering id.
func (a *attacker) waitAck(id string) (bool, error) {
	if id == "" {
		return false, fmt.Errorf("no Message-ID")
	}
	_, err := a.obs.waitUntil(a.ctx, time.Minute, 100*time.Millisecond, func(snapshot) bool {
		_, ok := a.snk.AckedAt(id)
		return ok
	})
	if err != nil {
		return false, nil
	}
	return true, nil
}
