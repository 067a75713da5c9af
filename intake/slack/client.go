package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/earshot-dev/earshot/intake/source"
	"github.com/earshot-dev/earshot/model"
)

// Client calls Slack's Web API with the bot token, waiting out a 429's
// Retry-After (up to MaxRetries times) instead of failing. It is safe for
// concurrent use.
type Client struct {
	api *slack.Client
	// MaxRetries bounds the waits after 429 answers of one call (5).
	MaxRetries int
	// onRateLimit counts each 429 answer.
	onRateLimit func()
}

// NewClient returns a client for the bot token; apiURL replaces
// https://slack.com/api/ when set. It does no I/O.
func NewClient(botToken, apiURL string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	opts := []slack.Option{slack.OptionHTTPClient(hc)}
	if apiURL != "" {
		opts = append(opts, slack.OptionAPIURL(apiURL))
	}
	return &Client{api: slack.New(botToken, opts...), MaxRetries: 5}
}

// call runs fn, again after each rate-limited answer's Retry-After.
func (c *Client) call(ctx context.Context, what string, fn func() error) error {
	for try := 0; ; try++ {
		err := fn()
		var rl *slack.RateLimitedError
		if !errors.As(err, &rl) || try >= c.MaxRetries {
			return classify(ctx, what, err)
		}
		if c.onRateLimit != nil {
			c.onRateLimit()
		}
		wait := max(rl.RetryAfter, 100*time.Millisecond)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// Errors that an operator has to fix: the source is disabled with them.
var permanent = map[string]string{
	"invalid_auth":           "slack rejected the token",
	"not_authed":             "slack rejected the token",
	"account_inactive":       "the slack app's account is inactive",
	"token_revoked":          "the slack token was revoked",
	"token_expired":          "the slack token expired",
	"missing_scope":          "the slack app lacks a scope (see README: Slack app setup)",
	"not_allowed_token_type": "the slack token is of the wrong type",
	"channel_not_found":      "the slack channel does not exist or the app cannot see it",
	"not_in_channel":         "the slack app is not a member of the channel",
}

// failure is a Slack error that retrying cannot fix (for the outbox).
type failure struct{ error }

// Permanent tells the outbox not to retry.
func (failure) Permanent() bool { return true }

// classify adds what was called, and marks errors that disable a source.
func classify(ctx context.Context, what string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w (%v)", what, ctx.Err(), err)
	}
	var se slack.SlackErrorResponse
	code := err.Error()
	if errors.As(err, &se) {
		code = se.Err
	}
	if reason, ok := permanent[code]; ok {
		return source.Permanent(reason, fmt.Errorf("%s: %w", what, failure{err}))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Identity is who the app is in its workspace.
type Identity struct {
	Team, TeamName, User, BotID string
}

// AuthTest returns the app's identity (auth.test).
func (c *Client) AuthTest(ctx context.Context) (Identity, error) {
	var r *slack.AuthTestResponse
	err := c.call(ctx, "auth.test", func() (err error) { r, err = c.api.AuthTestContext(ctx); return err })
	if err != nil {
		return Identity{}, err
	}
	return Identity{Team: r.TeamID, TeamName: r.Team, User: r.UserID, BotID: r.BotID}, nil
}

// ChannelID returns the ID of a channel given by ID or by #name
// (conversations.list, every page).
func (c *Client) ChannelID(ctx context.Context, channel string) (string, error) {
	name, isName := strings.CutPrefix(channel, "#")
	if !isName && channelID.MatchString(channel) {
		return channel, nil
	}
	cursor := ""
	for {
		var (
			chs  []slack.Channel
			next string
		)
		err := c.call(ctx, "conversations.list", func() (err error) {
			chs, next, err = c.api.GetConversationsContext(ctx, &slack.GetConversationsParameters{
				Cursor: cursor, ExcludeArchived: true, Limit: 200, Types: []string{"public_channel", "private_channel"}})
			return err
		})
		if err != nil {
			return "", err
		}
		for _, ch := range chs {
			if ch.Name == name {
				return ch.ID, nil
			}
		}
		if next == "" {
			return "", source.Permanent("the slack channel does not exist or the app cannot see it",
				fmt.Errorf("no channel named #%s", name))
		}
		cursor = next
	}
}

// History lists a channel's messages after oldest (a ts), newest first,
// page by page (conversations.history).
func (c *Client) History(ctx context.Context, channel, oldest string, fn func([]slack.Message) error) error {
	cursor := ""
	for {
		var r *slack.GetConversationHistoryResponse
		err := c.call(ctx, "conversations.history", func() (err error) {
			r, err = c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: channel, Oldest: oldest, Cursor: cursor, Limit: 200})
			return err
		})
		if err != nil {
			return err
		}
		if err := fn(r.Messages); err != nil {
			return err
		}
		if !r.HasMore || r.ResponseMetaData.NextCursor == "" {
			return nil
		}
		cursor = r.ResponseMetaData.NextCursor
	}
}

// Replies lists the replies in a thread after oldest, page by page
// (conversations.replies); the parent is left out.
func (c *Client) Replies(ctx context.Context, channel, threadTS, oldest string, fn func([]slack.Message) error) error {
	cursor := ""
	for {
		var (
			msgs []slack.Message
			more bool
			next string
		)
		err := c.call(ctx, "conversations.replies", func() (err error) {
			msgs, more, next, err = c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: threadTS, Oldest: oldest, Cursor: cursor, Limit: 200})
			return err
		})
		if err != nil {
			return err
		}
		var replies []slack.Message
		for _, m := range msgs {
			if m.Timestamp != threadTS {
				replies = append(replies, m)
			}
		}
		if err := fn(replies); err != nil {
			return err
		}
		if !more || next == "" {
			return nil
		}
		cursor = next
	}
}

// React adds an emoji reaction to a message; one already there counts.
func (c *Client) React(ctx context.Context, channel, ts, emoji string) error {
	err := c.call(ctx, "reactions.add", func() error {
		return c.api.AddReactionContext(ctx, emoji, slack.ItemRef{Channel: channel, Timestamp: ts})
	})
	if err != nil && strings.Contains(err.Error(), "already_reacted") {
		return nil
	}
	return err
}

// metadataType marks Earshot's posts, with the item they are about.
const metadataType = "earshot_ack"

// Post posts a message (chat.postMessage, or chat.postEphemeral for an
// ephemeral one) and returns its ts. A normal post carries the item's id
// as message metadata, so that Posted finds it again.
func (c *Client) Post(ctx context.Context, p model.SlackPost) (string, error) {
	opts := []slack.MsgOption{slack.MsgOptionText(p.Text, false)}
	if p.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(p.ThreadTS))
	}
	var ts string
	if p.Ephemeral {
		err := c.call(ctx, "chat.postEphemeral", func() (err error) {
			ts, err = c.api.PostEphemeralContext(ctx, p.Channel, p.User, opts...)
			return err
		})
		return ts, err
	}
	if p.ItemID != 0 {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType,
			EventPayload: map[string]any{"item_id": p.ItemID}}))
	}
	err := c.call(ctx, "chat.postMessage", func() (err error) {
		_, ts, err = c.api.PostMessageContext(ctx, p.Channel, opts...)
		return err
	})
	return ts, err
}

// Posted looks in a thread for the reply Earshot posted about p's item,
// so that a retry after a crash does not post it twice; it returns the
// reply's ts, or "".
func (c *Client) Posted(ctx context.Context, p model.SlackPost) (string, error) {
	if p.ThreadTS == "" || p.Ephemeral || p.ItemID == 0 {
		return "", nil
	}
	found := ""
	var msgs []slack.Message
	err := c.call(ctx, "conversations.replies", func() (err error) {
		msgs, _, _, err = c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: p.Channel, Timestamp: p.ThreadTS, Limit: 200, IncludeAllMetadata: true})
		return err
	})
	if err != nil {
		return "", err
	}
	for _, m := range msgs {
		if m.Metadata.EventType != metadataType {
			continue
		}
		if id, ok := m.Metadata.EventPayload["item_id"].(float64); ok && int64(id) == p.ItemID {
			found = m.Timestamp
		}
	}
	return found, nil
}

// User is what Earshot reads of a Slack user.
type User struct {
	ID, Name, RealName, Email string
	Bot, Deleted              bool
}

// User returns a user's profile (users.info).
func (c *Client) User(ctx context.Context, id string) (User, error) {
	var u *slack.User
	err := c.call(ctx, "users.info", func() (err error) { u, err = c.api.GetUserInfoContext(ctx, id); return err })
	if err != nil {
		return User{}, err
	}
	return User{ID: u.ID, Name: u.Name, RealName: firstOf(u.Profile.RealName, u.RealName, u.Profile.DisplayName, u.Name),
		Email: u.Profile.Email, Bot: u.IsBot, Deleted: u.Deleted}, nil
}

// Permalink returns a message's link (chat.getPermalink).
func (c *Client) Permalink(ctx context.Context, channel, ts string) (string, error) {
	var link string
	err := c.call(ctx, "chat.getPermalink", func() (err error) {
		link, err = c.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
		return err
	})
	return link, err
}

// ErrTooLarge means a file is larger than the cap.
var ErrTooLarge = errors.New("file larger than slack.max_file_bytes")

// Download reads a file's url_private_download with the bot token, at
// most maxBytes of it.
func (c *Client) Download(ctx context.Context, url string, maxBytes int64) ([]byte, error) {
	var buf bytes.Buffer
	w := &capped{w: &buf, left: maxBytes}
	err := c.call(ctx, "download file", func() error { buf.Reset(); w.left = maxBytes; return c.api.GetFileContext(ctx, url, w) })
	if errors.Is(err, ErrTooLarge) {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// capped writes at most left bytes, then fails with ErrTooLarge.
type capped struct {
	w    io.Writer
	left int64
}

func (c *capped) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, ErrTooLarge
	}
	c.left -= int64(len(p))
	return c.w.Write(p)
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
