package intake

import (
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset" // also registers every charset x/text knows with go-message
	"golang.org/x/text/encoding/charmap"
)

// charsetReader converts text in the charset label to UTF-8, knowing every
// charset go-message knows and UTF-7. An unknown label is an
// unknownCharsetError.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	if isUTF7(label) {
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		s, err := decodeUTF7(string(b))
		if err != nil {
			return nil, fmt.Errorf("charset %q: %w", label, err)
		}
		return strings.NewReader(s), nil
	}
	r, err := charset.Reader(label, input)
	if err != nil {
		return nil, unknownCharsetError{err}
	}
	return r, nil
}

// unknownCharsetError is a charset nobody here can decode.
type unknownCharsetError struct{ err error }

func (e unknownCharsetError) Error() string { return e.err.Error() }
func (e unknownCharsetError) Unwrap() error { return e.err }

// wordDecoder decodes RFC 2047 encoded words in any charset charsetReader
// knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeWords decodes RFC 2047 encoded words in s and puts the result on
// one line.
func decodeWords(s string) (string, error) {
	v, err := wordDecoder.DecodeHeader(s)
	return oneLine(v), err
}

// qWord8bit matches a Q-encoded word whose text holds raw 8-bit bytes,
// which RFC 2047 forbids and mailers write anyway.
var qWord8bit = regexp.MustCompile(`=\?[^?\s]+\?[qQ]\?[^?\s]*[^\x00-\x7f][^?\s]*\?=`)

// headerText returns the raw value of a header field as valid UTF-8, ready
// for RFC 2047 decoding. Raw 8-bit bytes inside a Q-encoded word are
// escaped as the word's own bytes. Other 8-bit bytes that are not UTF-8
// (RFC 6532) are read in declared, the charset the message's text parts
// declare, when they decode cleanly in it, else as windows-1252; either
// way with a warning naming field.
func headerText(raw, declared, field string, w *warnings) string {
	if strings.IndexFunc(raw, func(r rune) bool { return r >= utf8.RuneSelf }) < 0 {
		return raw
	}
	raw = qWord8bit.ReplaceAllStringFunc(raw, escape8bit)
	if utf8.ValidString(raw) {
		return raw
	}
	if declared != "" && !isUTF7(declared) {
		if r, err := charset.Reader(declared, strings.NewReader(raw)); err == nil {
			if b, err := io.ReadAll(r); err == nil && utf8.Valid(b) && !strings.ContainsRune(string(b), utf8.RuneError) {
				w.add("%s: raw 8-bit bytes read as %s, the charset the message declares", field, declared)
				return string(b)
			}
		}
	}
	w.add("%s: raw 8-bit bytes read as windows-1252", field)
	b, err := charmap.Windows1252.NewDecoder().String(raw)
	if err != nil {
		return strings.ToValidUTF8(raw, "\uFFFD")
	}
	return b
}

// escape8bit writes the raw 8-bit bytes of a Q-encoded word as =XX.
func escape8bit(word string) string {
	var b strings.Builder
	for i := 0; i < len(word); i++ {
		if c := word[i]; c >= utf8.RuneSelf {
			fmt.Fprintf(&b, "=%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
