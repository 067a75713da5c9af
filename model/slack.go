package model

import (
	"encoding/json"
	"fmt"
	"time"
)

// SlackMeta is what the Slack source stores with a message: where and by
// whom it was posted, and its files. The raw item is the event's JSON.
type SlackMeta struct {
	Team    string `json:"team"`
	Channel string `json:"channel"`
	// ChannelName is the configured channel's name, e.g. "field-intel".
	ChannelName string `json:"channel_name,omitempty"`
	// Source is the configured channel's source name.
	Source string `json:"source,omitempty"`
	// Category is the configured channel's category (feedback, intel or
	// both).
	Category string `json:"category,omitempty"`
	TS       string `json:"ts"`
	// ThreadTS is the parent's ts for a reply in a thread; empty for a
	// top-level message.
	ThreadTS string `json:"thread_ts,omitempty"`
	// ParentUser posted the thread's parent, when Slack says.
	ParentUser string `json:"parent_user,omitempty"`
	User       string `json:"user"`
	Text       string `json:"text"`
	// Via is how the message arrived: socket, events or history.
	Via   string      `json:"via,omitempty"`
	Files []SlackFile `json:"files,omitempty"`
	// Permalink is the message's link in Slack.
	Permalink string `json:"permalink,omitempty"`
}

// SlackFile is a file posted with a Slack message.
type SlackFile struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Mimetype string `json:"mimetype"`
	Size     int64  `json:"size"`
	// URL is the file's url_private_download, read with the bot token.
	URL string `json:"url,omitempty"`
	// Audio is set for audio clips and voice memos, which are transcribed.
	Audio bool `json:"audio,omitempty"`
}

// PostedAt is the time of the message's ts.
func (m SlackMeta) PostedAt() time.Time { return SlackTime(m.TS) }

// SlackTime reads a Slack ts ("1712345678.000100") as a time; zero when
// it does not read.
func SlackTime(ts string) time.Time {
	var sec, micro int64
	if _, err := fmt.Sscanf(ts, "%d.%d", &sec, &micro); err != nil {
		return time.Time{}
	}
	return time.Unix(sec, micro*1000).UTC()
}

// SlackMeta decodes the metadata of a Slack item.
func (it Item) SlackMeta() (SlackMeta, error) {
	var m SlackMeta
	if err := json.Unmarshal([]byte(it.Meta), &m); err != nil {
		return m, fmt.Errorf("item %d: slack meta: %w", it.ID, err)
	}
	return m, nil
}

// SlackRef is what is kept of a processed Slack message: its place, its
// author and, once an ack went out, nothing more (the outbox has it).
type SlackRef struct {
	Team        string `json:"team"`
	Channel     string `json:"channel"`
	ChannelName string `json:"channel_name,omitempty"`
	TS          string `json:"ts"`
	ThreadTS    string `json:"thread_ts,omitempty"`
	User        string `json:"user"`
	// UserName is the author's name in Slack; Email the profile e-mail.
	UserName  string `json:"user_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Permalink string `json:"permalink,omitempty"`
	// Revisions counts the edits kept; Deleted is set once the message
	// was deleted in Slack (the item stays).
	Revisions int  `json:"revisions,omitempty"`
	Deleted   bool `json:"deleted,omitempty"`
	// Context are the author's own replies in the thread, kept with it.
	Context []string `json:"context,omitempty"`
}

// SlackPost is an outbox message posted in Slack: a reply in a thread
// (ThreadTS set), a message to a channel or a user, or an ephemeral
// message only User sees.
type SlackPost struct {
	// Channel is a channel ID, or a user ID for a direct message.
	Channel  string `json:"channel"`
	ThreadTS string `json:"thread_ts,omitempty"`
	// User sees an ephemeral message; empty for a normal one.
	User      string `json:"user,omitempty"`
	Ephemeral bool   `json:"ephemeral,omitempty"`
	Text      string `json:"text"`
	// ItemID marks the post (message metadata), so that a retry after a
	// crash finds the reply it already posted.
	ItemID int64 `json:"item_id,omitempty"`
}

// SlackChange is an edit, a deletion or an author's reply in the thread
// that arrived for a stored Slack message.
type SlackChange struct {
	// Kind is SlackEdit, SlackDelete or SlackContext.
	Kind string
	// TS is the change's own ts (an edit's edited ts, a reply's ts).
	TS   string
	Text string
	// Raw is the event's JSON.
	Raw []byte
}

// The kinds of Slack changes.
const (
	SlackEdit    = "edit"
	SlackDelete  = "delete"
	SlackContext = "context"
)
