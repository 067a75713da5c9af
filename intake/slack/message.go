package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/earshot-dev/earshot/model"
)

// channelID matches a conversation ID.
var channelID = regexp.MustCompile(`^[CGD][0-9A-Z]{2,20}$`)

// message is a Slack message event, or a message of a history listing:
// the fields Earshot reads.
type message struct {
	Type         string  `json:"type"`
	Subtype      string  `json:"subtype,omitempty"`
	Channel      string  `json:"channel,omitempty"`
	User         string  `json:"user,omitempty"`
	BotID        string  `json:"bot_id,omitempty"`
	Text         string  `json:"text"`
	TS           string  `json:"ts"`
	ThreadTS     string  `json:"thread_ts,omitempty"`
	ParentUserID string  `json:"parent_user_id,omitempty"`
	Team         string  `json:"team,omitempty"`
	Hidden       bool    `json:"hidden,omitempty"`
	Edited       *edited `json:"edited,omitempty"`
	Files        []file  `json:"files,omitempty"`
	ReplyCount   int     `json:"reply_count,omitempty"`
	LatestReply  string  `json:"latest_reply,omitempty"`
	// Message and PreviousMessage come with message_changed and
	// message_deleted; DeletedTS with message_deleted.
	Message         *message `json:"message,omitempty"`
	PreviousMessage *message `json:"previous_message,omitempty"`
	DeletedTS       string   `json:"deleted_ts,omitempty"`
}

type edited struct {
	User string `json:"user"`
	TS   string `json:"ts"`
}

type file struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Title              string `json:"title,omitempty"`
	Mimetype           string `json:"mimetype"`
	Filetype           string `json:"filetype,omitempty"`
	Subtype            string `json:"subtype,omitempty"`
	Size               int64  `json:"size"`
	URLPrivateDownload string `json:"url_private_download,omitempty"`
}

// Subtypes of messages that are a person's words; every other subtype
// (joins, leaves, topic and purpose changes, bot messages, pins…) is no
// item.
var personal = map[string]bool{"": true, "file_share": true, "thread_broadcast": true, "me_message": true}

// ignored says why a message is no item, or "".
func (m message) ignored(self Identity) string {
	switch {
	case m.BotID != "" || m.Subtype == "bot_message":
		return "bot"
	case !personal[m.Subtype]:
		return "subtype " + m.Subtype
	case m.Hidden:
		return "hidden"
	case m.User == "":
		return "no user"
	case self.User != "" && m.User == self.User:
		return "own message"
	case m.TS == "":
		return "no ts"
	}
	return ""
}

// reply reports whether the message is a reply in a thread (not its
// parent).
func (m message) reply() bool { return m.ThreadTS != "" && m.ThreadTS != m.TS }

// Key is a message's source key: team, channel and ts.
func Key(team, channel, ts string) string { return team + ":" + channel + ":" + ts }

// ContentHash is a message's content hash in the store: one per (team,
// channel, ts), so that an edited text never makes a second item.
func ContentHash(team, channel, ts string) string {
	h := sha256.Sum256([]byte("slack-message:" + Key(team, channel, ts)))
	return hex.EncodeToString(h[:])
}

// audio reports whether a file is an audio clip or a voice memo.
func (f file) audio() bool {
	return strings.HasPrefix(f.Mimetype, "audio/") || f.Subtype == "slack_audio"
}

// meta is what is stored with the message.
func (m message) meta(team string, ch *Source, via string) model.SlackMeta {
	out := model.SlackMeta{Team: team, Channel: ch.id(), ChannelName: ch.channelName(), Source: ch.name,
		Category: ch.cfg.Category, TS: m.TS, User: m.User, Text: m.Text, Via: via, ParentUser: m.ParentUserID}
	if m.reply() {
		out.ThreadTS = m.ThreadTS
	}
	for _, f := range m.Files {
		out.Files = append(out.Files, model.SlackFile{ID: f.ID, Name: firstOf(f.Name, f.Title), Mimetype: f.Mimetype,
			Size: f.Size, URL: f.URLPrivateDownload, Audio: f.audio()})
	}
	return out
}

// rawItem builds the raw item of a message; raw is the event's JSON.
func (m message) rawItem(team string, ch *Source, via string, raw []byte) (model.RawItem, error) {
	meta, err := json.Marshal(m.meta(team, ch, via))
	if err != nil {
		return model.RawItem{}, err
	}
	return model.RawItem{SourceKey: Key(team, ch.id(), m.TS), Kind: model.KindSlack,
		ContentHash: ContentHash(team, ch.id(), m.TS), Raw: raw, Meta: string(meta),
		ReceivedAt: model.SlackTime(m.TS)}, nil
}
