package intake

import (
	"bytes"
	"encoding/binary"
	"strings"
)

// TNEF (winmail.dat, application/ms-tnef) is how Outlook and Exchange wrap
// a message's MAPI properties; [MS-OXTNEF] describes the format.
const (
	tnefSignature    = 0x223E9F78
	tnefMessageLevel = 0x01
	// attMessageClass holds the message class, e.g. "IPM.Note" or
	// "REPORT.IPM.Note.IPNRN" for a read receipt.
	attMessageClass = 0x00078008
	// tnefHeadBytes is how much of a TNEF part is read for its message
	// class, which Outlook writes among the first attributes.
	tnefHeadBytes = 64 << 10
)

// isTNEF reports whether a part is a TNEF stream.
func isTNEF(mediaType, filename string) bool {
	return mediaType == "application/ms-tnef" || mediaType == "application/vnd.ms-tnef" ||
		strings.EqualFold(filename, "winmail.dat")
}

// tnefMessageClass returns the message class of a TNEF stream (or of its
// first tnefHeadBytes), or "" when b is not TNEF or has no class among the
// message-level attributes it holds.
func tnefMessageClass(b []byte) string {
	if len(b) < 6 || binary.LittleEndian.Uint32(b) != tnefSignature {
		return ""
	}
	b = b[6:] // signature and legacy key
	for len(b) >= 9 {
		level := b[0]
		id := binary.LittleEndian.Uint32(b[1:])
		n := binary.LittleEndian.Uint32(b[5:])
		if level != tnefMessageLevel || uint64(n)+11 > uint64(len(b)) {
			return ""
		}
		if id == attMessageClass {
			return string(bytes.TrimRight(b[9:9+n], "\x00"))
		}
		b = b[9+n+2:] // data and checksum
	}
	return ""
}

// isReadReceiptClass reports whether a message class is a read or
// not-read notification.
func isReadReceiptClass(class string) bool {
	c := strings.ToUpper(class)
	return strings.HasPrefix(c, "REPORT.") && (strings.HasSuffix(c, ".IPNRN") || strings.HasSuffix(c, ".IPNNRN"))
}
