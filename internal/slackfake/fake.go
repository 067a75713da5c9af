// Package slackfake is a stand-in for a Slack workspace, built on
// slack-go's slacktest server: the Web API methods Earshot calls, over
// messages it keeps per channel, and a Socket Mode endpoint that delivers
// each posted message as an Events API envelope, records the
// acknowledgments and delivers again on request. `earshot dev` and the
// end-to-end tests run it on loopback. It keeps Slack's shapes; it is not
// a model of all of Slack.
package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/slacktest"
)

// The workspace of the stand-in.
const (
	Team    = "T0EARSHOT"
	BotUser = "U0EARSHOT"
	BotID   = "B0EARSHOT"
)

// Message is a message in a channel of the stand-in.
type Message struct {
	Type        string            `json:"type"`
	Subtype     string            `json:"subtype,omitempty"`
	Channel     string            `json:"channel,omitempty"`
	User        string            `json:"user,omitempty"`
	BotID       string            `json:"bot_id,omitempty"`
	Text        string            `json:"text"`
	TS          string            `json:"ts"`
	ThreadTS    string            `json:"thread_ts,omitempty"`
	ParentUser  string            `json:"parent_user_id,omitempty"`
	Team        string            `json:"team,omitempty"`
	ReplyCount  int               `json:"reply_count,omitempty"`
	LatestReply string            `json:"latest_reply,omitempty"`
	Files       []json.RawMessage `json:"files,omitempty"`
	Metadata    *json.RawMessage  `json:"metadata,omitempty"`
}

// Post is what Earshot posted: a message or an ephemeral one.
type Post struct {
	Channel, ThreadTS, User, Text, TS string
	Ephemeral                         bool
	// ItemID is the item the post's metadata names.
	ItemID int64
}

// Reaction is an emoji Earshot added to a message.
type Reaction struct{ Channel, TS, Name string }

// User is a member of the workspace.
type User struct{ ID, Name, RealName, Email string }

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	*slacktest.Server

	mu        sync.Mutex
	clock     time.Time
	seq       int
	channels  map[string]string // id → name
	messages  map[string][]*Message
	users     map[string]User
	files     map[string][]byte
	posts     []Post
	reactions []Reaction
	envelopes []envelope // every envelope sent, in order
	acked     map[string]bool
	conns     map[*websocket.Conn]*sync.Mutex
	calls     map[string]int
	// RateLimit answers the next n calls of a method 429 with Retry-After.
	rateLimit map[string]int
	pageSize  int
	refuse    bool
}

// Refuse makes apps.connections.open fail while on, as when Slack or the
// network is down.
func (s *Server) Refuse(on bool) {
	s.mu.Lock()
	s.refuse = on
	s.mu.Unlock()
}

// SetPageSize makes listings answer at most n messages a page.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	s.pageSize = n
	s.mu.Unlock()
}

type envelope struct {
	ID      string
	Payload json.RawMessage
}

// New starts the stand-in on a loopback port with the channels (ID →
// name) and users given.
func New(channels map[string]string, users []User) *Server {
	s := &Server{clock: time.Now().Add(-time.Hour).Truncate(time.Second), channels: channels,
		messages: map[string][]*Message{}, users: map[string]User{}, files: map[string][]byte{},
		acked: map[string]bool{}, conns: map[*websocket.Conn]*sync.Mutex{}, calls: map[string]int{}, rateLimit: map[string]int{}}
	for _, u := range users {
		s.users[u.ID] = u
	}
	h := func(name string, fn http.HandlerFunc) slacktest.Binder {
		return func(c slacktest.Customize) { c.Handle("/"+name, s.counted(name, fn)) }
	}
	s.Server = slacktest.NewTestServer(
		h("auth.test", s.authTest),
		h("conversations.list", s.conversationsList),
		h("conversations.history", s.history),
		h("conversations.replies", s.replies),
		h("chat.postMessage", s.postMessage),
		h("chat.postEphemeral", s.postEphemeral),
		h("chat.getPermalink", s.permalink),
		h("reactions.add", s.reactionsAdd),
		h("users.info", s.usersInfo),
		h("apps.connections.open", s.connectionsOpen),
		func(c slacktest.Customize) { c.Handle("/socket", s.socket) },
		func(c slacktest.Customize) { c.Handle("/files/", s.file) },
	)
	s.Start()
	return s
}

// APIURL is the Web API's base URL, for slack.api_url.
func (s *Server) APIURL() string { return s.GetAPIURL() }

// counted counts calls and answers 429 while a rate limit is set.
func (s *Server) counted(name string, fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[name]++
		limited := s.rateLimit[name] > 0
		if limited {
			s.rateLimit[name]--
		}
		s.mu.Unlock()
		if limited {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fn(w, r)
	}
}

// Calls counts the calls of a Web API method.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// RateLimit answers the next n calls of method 429 with Retry-After: 1.
func (s *Server) RateLimit(method string, n int) {
	s.mu.Lock()
	s.rateLimit[method] = n
	s.mu.Unlock()
}

// nextTS returns a new ts, one second after the last.
func (s *Server) nextTS() string {
	s.seq++
	t := s.clock.Add(time.Duration(s.seq) * time.Second)
	return fmt.Sprintf("%d.%06d", t.Unix(), s.seq)
}

// Say posts a user's message to a channel (in a thread when threadTS is
// set) and delivers its event to the connected Socket Mode clients. It
// returns the message's ts.
func (s *Server) Say(channel, user, text, threadTS string, files ...json.RawMessage) string {
	s.mu.Lock()
	m := &Message{Type: "message", Channel: channel, User: user, Text: text, TS: s.nextTS(), ThreadTS: threadTS, Team: Team, Files: files}
	if len(files) > 0 {
		m.Subtype = "file_share"
	}
	if threadTS != "" {
		for _, p := range s.messages[channel] {
			if p.TS == threadTS {
				m.ParentUser = p.User
				p.ReplyCount++
				p.LatestReply = m.TS
				if p.ThreadTS == "" {
					p.ThreadTS = p.TS
				}
			}
		}
	}
	s.messages[channel] = append(s.messages[channel], m)
	ev, _ := json.Marshal(m)
	s.mu.Unlock()
	s.deliver(ev)
	return m.TS
}

// Event delivers an event (a message_changed, a channel_join…) without
// keeping a message.
func (s *Server) Event(event any) {
	ev, _ := json.Marshal(event)
	s.deliver(ev)
}

// AddFile keeps a file's bytes and returns its JSON for Say.
func (s *Server) AddFile(id, name, mimetype, subtype string, data []byte) json.RawMessage {
	s.mu.Lock()
	s.files[id] = data
	s.mu.Unlock()
	f, _ := json.Marshal(map[string]any{"id": id, "name": name, "mimetype": mimetype, "subtype": subtype,
		"size": len(data), "url_private_download": s.GetAPIURL() + "files/" + id})
	return f
}

// deliver wraps an event in an envelope and sends it to every client.
func (s *Server) deliver(event json.RawMessage) {
	var ev map[string]any
	if json.Unmarshal(event, &ev) == nil {
		if _, ok := ev["event_ts"]; !ok {
			ev["event_ts"] = ev["ts"]
		}
		event, _ = json.Marshal(ev)
	}
	s.mu.Lock()
	n := len(s.envelopes) + 1
	env := envelope{ID: fmt.Sprintf("env-%d", n)}
	env.Payload, _ = json.Marshal(map[string]any{"token": "fake", "team_id": Team, "api_app_id": "A0EARSHOT",
		"type": "event_callback", "event_id": fmt.Sprintf("Ev%08d", n), "event_time": time.Now().Unix(),
		"event": event, "authed_users": []string{BotUser}, "authorizations": []any{map[string]any{"team_id": Team, "user_id": BotUser, "is_bot": true}}})
	s.envelopes = append(s.envelopes, env)
	s.mu.Unlock()
	s.send(env, 0)
}

// Redeliver sends every envelope delivered so far again, as Slack does
// when it saw no acknowledgment (retry_attempt 1).
func (s *Server) Redeliver() int {
	s.mu.Lock()
	envs := append([]envelope(nil), s.envelopes...)
	s.mu.Unlock()
	for _, e := range envs {
		s.send(e, 1)
	}
	return len(envs)
}

// Envelope returns the n-th envelope's Events API JSON (from 1).
func (s *Server) Envelope(n int) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.envelopes[n-1].Payload
}

func (s *Server) send(e envelope, retry int) {
	msg, _ := json.Marshal(map[string]any{"envelope_id": e.ID, "type": "events_api", "payload": e.Payload,
		"accepts_response_payload": false, "retry_attempt": retry, "retry_reason": map[bool]string{true: "timeout"}[retry > 0]})
	s.mu.Lock()
	conns := make(map[*websocket.Conn]*sync.Mutex, len(s.conns))
	for c, m := range s.conns {
		conns[c] = m
	}
	s.mu.Unlock()
	for c, m := range conns {
		m.Lock()
		_ = c.WriteMessage(websocket.TextMessage, msg)
		m.Unlock()
	}
}

// Connected counts the open Socket Mode connections.
func (s *Server) Connected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Acked counts the envelopes acknowledged.
func (s *Server) Acked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

// Posts returns what Earshot posted, in order.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Post(nil), s.posts...)
}

// Reactions returns the reactions Earshot added, in order.
func (s *Server) Reactions() []Reaction {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reaction(nil), s.reactions...)
}

// Permalink is a message's link in the stand-in.
func Permalink(channel, ts string) string {
	return "https://earshot-dev.slack.test/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
}

func (s *Server) form(r *http.Request) url.Values {
	_ = r.ParseForm()
	return r.Form
}

func reply(w http.ResponseWriter, v map[string]any) {
	v["ok"] = true
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code})
}

func (s *Server) authTest(w http.ResponseWriter, r *http.Request) {
	reply(w, map[string]any{"url": "https://earshot-dev.slack.test/", "team": "Earshot Dev", "user": "earshot",
		"team_id": Team, "user_id": BotUser, "bot_id": BotID})
}

func (s *Server) conversationsList(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var chs []map[string]any
	for id, name := range s.channels {
		chs = append(chs, map[string]any{"id": id, "name": name, "is_channel": true, "is_member": true})
	}
	s.mu.Unlock()
	sort.Slice(chs, func(i, j int) bool { return chs[i]["id"].(string) < chs[j]["id"].(string) })
	reply(w, map[string]any{"channels": chs, "response_metadata": map[string]any{"next_cursor": ""}})
}

// page answers a listing: newest first for history, oldest first for
// replies, limit per page, the cursor an offset.
func (s *Server) page(w http.ResponseWriter, r *http.Request, list []*Message, key string) {
	f := s.form(r)
	limit, _ := strconv.Atoi(f.Get("limit"))
	if limit <= 0 || limit > 200 {
		limit = 100
	}
	s.mu.Lock()
	if s.pageSize > 0 {
		limit = min(limit, s.pageSize)
	}
	s.mu.Unlock()
	off, _ := strconv.Atoi(f.Get("cursor"))
	oldest := f.Get("oldest")
	var keep []*Message
	for _, m := range list {
		if oldest == "" || tsLess(oldest, m.TS) {
			keep = append(keep, m)
		}
	}
	end := min(off+limit, len(keep))
	if off > end {
		off = end
	}
	next := ""
	if end < len(keep) {
		next = strconv.Itoa(end)
	}
	reply(w, map[string]any{key: keep[off:end], "has_more": next != "", "response_metadata": map[string]any{"next_cursor": next}})
}

func tsLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	return fa < fb
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	ch := s.form(r).Get("channel")
	s.mu.Lock()
	var top []*Message
	for _, m := range s.messages[ch] {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			c := *m
			top = append(top, &c)
		}
	}
	s.mu.Unlock()
	sort.Slice(top, func(i, j int) bool { return tsLess(top[j].TS, top[i].TS) })
	s.page(w, r, top, "messages")
}

func (s *Server) replies(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	ch, ts := f.Get("channel"), f.Get("ts")
	s.mu.Lock()
	var thread []*Message
	for _, m := range s.messages[ch] {
		if m.TS == ts || m.ThreadTS == ts {
			c := *m
			thread = append(thread, &c)
		}
	}
	s.mu.Unlock()
	sort.Slice(thread, func(i, j int) bool { return tsLess(thread[i].TS, thread[j].TS) })
	if len(thread) == 0 {
		fail(w, "thread_not_found")
		return
	}
	// The parent always comes first, whatever oldest says.
	parent := thread[0]
	f.Del("cursor")
	rest := thread[1:]
	var keep []*Message
	for _, m := range rest {
		if o := f.Get("oldest"); o == "" || tsLess(o, m.TS) {
			keep = append(keep, m)
		}
	}
	reply(w, map[string]any{"messages": append([]*Message{parent}, keep...), "has_more": false,
		"response_metadata": map[string]any{"next_cursor": ""}})
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	ch := f.Get("channel")
	s.mu.Lock()
	p := Post{Channel: ch, ThreadTS: f.Get("thread_ts"), Text: f.Get("text"), TS: s.nextTS()}
	m := &Message{Type: "message", Channel: ch, BotID: BotID, User: BotUser, Text: p.Text, TS: p.TS, ThreadTS: p.ThreadTS, Team: Team}
	if md := f.Get("metadata"); md != "" {
		raw := json.RawMessage(md)
		m.Metadata = &raw
		var meta struct {
			Payload struct {
				ItemID int64 `json:"item_id"`
			} `json:"event_payload"`
		}
		_ = json.Unmarshal(raw, &meta)
		p.ItemID = meta.Payload.ItemID
	}
	s.posts = append(s.posts, p)
	s.messages[ch] = append(s.messages[ch], m)
	s.mu.Unlock()
	reply(w, map[string]any{"channel": ch, "ts": p.TS, "message": m})
}

func (s *Server) postEphemeral(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	s.mu.Lock()
	p := Post{Channel: f.Get("channel"), ThreadTS: f.Get("thread_ts"), User: f.Get("user"), Text: f.Get("text"),
		TS: s.nextTS(), Ephemeral: true}
	s.posts = append(s.posts, p)
	s.mu.Unlock()
	reply(w, map[string]any{"message_ts": p.TS})
}

func (s *Server) permalink(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	reply(w, map[string]any{"channel": f.Get("channel"), "permalink": Permalink(f.Get("channel"), f.Get("message_ts"))})
}

func (s *Server) reactionsAdd(w http.ResponseWriter, r *http.Request) {
	f := s.form(r)
	rc := Reaction{Channel: f.Get("channel"), TS: f.Get("timestamp"), Name: f.Get("name")}
	s.mu.Lock()
	for _, x := range s.reactions {
		if x == rc {
			s.mu.Unlock()
			fail(w, "already_reacted")
			return
		}
	}
	s.reactions = append(s.reactions, rc)
	s.mu.Unlock()
	reply(w, map[string]any{})
}

func (s *Server) usersInfo(w http.ResponseWriter, r *http.Request) {
	id := s.form(r).Get("user")
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if !ok {
		fail(w, "user_not_found")
		return
	}
	reply(w, map[string]any{"user": map[string]any{"id": u.ID, "team_id": Team, "name": u.Name, "real_name": u.RealName,
		"profile": map[string]any{"real_name": u.RealName, "display_name": u.Name, "email": u.Email}}})
}

func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "" {
		http.Error(w, "no token", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	data, ok := s.files[strings.TrimPrefix(r.URL.Path, "/files/")]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

func (s *Server) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	refuse := s.refuse
	s.mu.Unlock()
	if refuse {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer xapp-") {
		fail(w, "invalid_auth")
		return
	}
	reply(w, map[string]any{"url": "ws://" + s.ServerAddr + "/socket"})
}

// socket serves a Socket Mode connection: hello, the events, the pings
// Slack sends every few seconds, and the acknowledgments read back.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	wmu := &sync.Mutex{}
	wmu.Lock()
	_ = c.WriteJSON(map[string]any{"type": "hello", "num_connections": 1,
		"connection_info": map[string]any{"app_id": "A0EARSHOT"}, "debug_info": map[string]any{"host": "earshot-dev"}})
	wmu.Unlock()
	s.mu.Lock()
	s.conns[c] = wmu
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			wmu.Lock()
			err := c.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(5*time.Second))
			wmu.Unlock()
			if err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	for {
		var ack struct {
			EnvelopeID string `json:"envelope_id"`
		}
		if err := c.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		s.acked[ack.EnvelopeID] = true
		s.mu.Unlock()
	}
}

// Disconnect closes every Socket Mode connection, as a network failure
// would.
func (s *Server) Disconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.Close()
	}
}
