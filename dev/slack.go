package dev

import (
	"context"
	"fmt"
	"time"

	"github.com/earshot-dev/earshot/internal/slackfake"
)

// The local Slack workspace of `earshot dev`: one channel reps post intel
// to, Dana (on the roster by her Slack user) and Kim (by her profile's
// e-mail).
const (
	SlackChannel     = "C0FIELDINT"
	SlackChannelName = "field-intel"
	slackDana        = "U0DANA001"
	slackKim         = "U0KIMNG01"
)

// StartSlack starts the Slack stand-in on a free loopback port: the Web
// API and a Socket Mode endpoint, built on slack-go's slacktest server.
func StartSlack() *slackfake.Server {
	return slackfake.New(map[string]string{SlackChannel: SlackChannelName}, []slackfake.User{
		{ID: slackDana, Name: "dana", RealName: "Dana Whitfield", Email: "dana@example.com"},
		{ID: slackKim, Name: "kim", RealName: "Kim Ng", Email: "kim.ng@example.com"},
	})
}

// SlackSamples are posted to #field-intel: Dana's before Earshot starts
// (it arrives by catch-up, conversations.history), Kim's while it runs
// (by Socket Mode).
var (
	slackBefore = "Heard at Globex today: Acme Corp is offering free onboarding and 25% off to switch before Q3. They demoed their new reports dashboard."
	slackLive   = "Initech's buyer says our billing exports beat Acme on the invoice detail. They want an API for it."
)

// postSlackBefore posts the sample that Earshot finds by catching up.
func postSlackBefore(s *slackfake.Server) { s.Say(SlackChannel, slackDana, slackBefore, "") }

// postSlackLive posts the sample that arrives by Socket Mode, once
// Earshot holds a connection.
func postSlackLive(ctx context.Context, s *slackfake.Server) error {
	deadline := time.Now().Add(30 * time.Second)
	for s.Connected() == 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("dev slack: earshot did not open a socket mode connection within 30s")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.Say(SlackChannel, slackKim, slackLive, "")
	return nil
}
