package intake

import (
	"errors"
	"strings"
	"unicode/utf16"
)

// isUTF7 reports whether a charset label names UTF-7 (RFC 2152), which
// some older Microsoft and Apple mailers used for headers and bodies.
// Neither golang.org/x/text nor go-message decodes it.
func isUTF7(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-7", "utf7", "unicode-1-1-utf-7", "csunicode11utf7", "x-unicode-2-0-utf-7":
		return true
	}
	return false
}

// errUTF7 reports a shifted sequence that is not valid UTF-7.
var errUTF7 = errors.New("invalid utf-7")

// decodeUTF7 decodes UTF-7 (RFC 2152 section 3). Characters outside a
// shifted sequence stand for themselves; "+-" is a plus sign; "+" starts
// UTF-16 code units in base64 that run to the first character outside the
// base64 alphabet, a "-" there being absorbed. Leftover bits at the end of
// a sequence are dropped. A code unit pair that is not valid UTF-16 becomes
// U+FFFD; a shifted sequence whose leftover bits are not zero (a sign of
// something else than UTF-7) is an error.
func decodeUTF7(s string) (string, error) {
	var (
		out   strings.Builder
		units []uint16
	)
	for i := 0; i < len(s); {
		c := s[i]
		if c != '+' {
			out.WriteByte(c)
			i++
			continue
		}
		i++
		if i < len(s) && s[i] == '-' {
			out.WriteByte('+')
			i++
			continue
		}
		var bits, n uint32 // n bits are waiting in the low end of bits
		units = units[:0]
		for ; i < len(s); i++ {
			v, ok := base64Value(s[i])
			if !ok {
				break
			}
			bits = bits<<6 | v
			n += 6
			if n >= 16 {
				n -= 16
				units = append(units, uint16(bits>>n))
				bits &= 1<<n - 1
			}
		}
		if bits != 0 {
			return "", errUTF7
		}
		out.WriteString(string(utf16.Decode(units)))
		if i < len(s) && s[i] == '-' {
			i++
		}
	}
	return out.String(), nil
}

// base64Value returns the value of a character of the base64 alphabet.
func base64Value(c byte) (uint32, bool) {
	switch {
	case c >= 'A' && c <= 'Z':
		return uint32(c - 'A'), true
	case c >= 'a' && c <= 'z':
		return uint32(c-'a') + 26, true
	case c >= '0' && c <= '9':
		return uint32(c-'0') + 52, true
	case c == '+':
		return 62, true
	case c == '/':
		return 63, true
	}
	return 0, false
}
