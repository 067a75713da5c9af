// Package sign makes and checks the tokens Earshot hands out without a
// database row: the token of an owner notice (in its Message-ID and
// Reply-To, so that the owner's reply finds its item) and the link to a
// rep's own page. Both are HMAC-SHA256 under a key the store keeps
// (app_secrets), shared by every replica.
package sign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// KeySize is the size of a new key.
const KeySize = 32

// NewKey returns a random key.
func NewKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("random key: %w", err)
	}
	return k, nil
}

// Signer signs with one key.
type Signer struct{ key []byte }

// New returns a signer of key.
func New(key []byte) *Signer { return &Signer{key: key} }

func (s *Signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(strings.Join(parts, "\x00")))
	return m.Sum(nil)
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NoticeToken is the token of the notice about item to owner: 16
// lower-case base32 characters (80 bits), safe in a Message-ID and in a
// mail address's +tag.
func (s *Signer) NoticeToken(item int64, owner string) string {
	return strings.ToLower(b32.EncodeToString(s.mac("notice", strconv.FormatInt(item, 10), owner)[:10]))
}

// NoticeMessageID is the Message-ID (without <>) of the notice about item
// to owner.
func (s *Signer) NoticeMessageID(item int64, owner, host string) string {
	return fmt.Sprintf("notice.%d.%s@%s", item, s.NoticeToken(item, owner), host)
}

// NoticeReplyTo is addr with the notice's +tag: local+n<item>.<token>@domain.
func (s *Signer) NoticeReplyTo(addr string, item int64, owner string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return addr
	}
	return fmt.Sprintf("%s+n%d.%s@%s", local, item, s.NoticeToken(item, owner), domain)
}

var (
	noticeID  = regexp.MustCompile(`^<?notice\.(\d+)\.([a-z2-7]{16})@`)
	noticeTag = regexp.MustCompile(`\+n(\d+)\.([a-z2-7]{16})@`)
)

// NoticeRef is an item and token found in a reply.
type NoticeRef struct {
	Item  int64
	Token string
}

// NoticeRefs finds the notice references among a reply's In-Reply-To and
// References ids.
func NoticeRefs(ids []string) []NoticeRef {
	var out []NoticeRef
	for _, id := range ids {
		if m := noticeID.FindStringSubmatch(strings.ToLower(strings.TrimSpace(id))); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			out = append(out, NoticeRef{Item: n, Token: m[2]})
		}
	}
	return out
}

// NoticeTags finds the notice +tags in addresses (To, Cc).
func NoticeTags(addrs []string) []NoticeRef {
	var out []NoticeRef
	for _, a := range addrs {
		if m := noticeTag.FindStringSubmatch(strings.ToLower(a)); m != nil {
			n, _ := strconv.ParseInt(m[1], 10, 64)
			out = append(out, NoticeRef{Item: n, Token: m[2]})
		}
	}
	return out
}

// ValidNotice reports whether ref is the token of item's notice to owner.
func (s *Signer) ValidNotice(ref NoticeRef, owner string) bool {
	return hmac.Equal([]byte(ref.Token), []byte(s.NoticeToken(ref.Item, owner)))
}

// RepLink is the token of a link to rep's page, issued at issued and
// opening until expires: rep.issued.expires.mac in URL-safe base64.
func (s *Signer) RepLink(rep int64, issued, expires time.Time) string {
	body := fmt.Sprintf("%d.%d.%d", rep, issued.Unix(), expires.Unix())
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac("rep", body)[:18])
}

// Errors of a rep link.
var (
	ErrBadLink     = errors.New("this link is not valid")
	ErrExpiredLink = errors.New("this link has expired")
)

// CheckRepLink returns the rep and the issue time of a link token valid
// at now.
func (s *Signer) CheckRepLink(token string, now time.Time) (rep int64, issued time.Time, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 {
		return 0, time.Time{}, ErrBadLink
	}
	body := strings.Join(parts[:3], ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[3])
	if err != nil || !hmac.Equal(sig, s.mac("rep", body)[:18]) {
		return 0, time.Time{}, ErrBadLink
	}
	rep, err1 := strconv.ParseInt(parts[0], 10, 64)
	iss, err2 := strconv.ParseInt(parts[1], 10, 64)
	exp, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, time.Time{}, ErrBadLink
	}
	if now.Unix() > exp {
		return 0, time.Time{}, ErrExpiredLink
	}
	return rep, time.Unix(iss, 0), nil
}
