package dev

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

//go:embed samples/*.eml samples/*.wav
var samples embed.FS

// Sample is one seeded contribution and the mailboxes it is delivered to.
type Sample struct {
	Name string
	To   []string
	Raw  []byte
	// Auto marks mail that must be stored but never acknowledged.
	Auto bool
}

// Samples returns the sample contributions: feedback, intel, a mail to
// both mailboxes, a forwarded customer mail, an out-of-office reply and a
// PBX voicemail-to-email with a WAV attachment.
func Samples() ([]Sample, error) {
	names, err := fs.Glob(samples, "samples/*.eml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Sample
	for _, n := range names {
		raw, err := samples.ReadFile(n)
		if err != nil {
			return nil, err
		}
		s := Sample{Name: strings.TrimSuffix(strings.TrimPrefix(n, "samples/"), ".eml"), Raw: raw}
		hdr := string(raw[:bytes.Index(raw, []byte("\n\n"))])
		if strings.Contains(hdr, FeedbackAddr) {
			s.To = append(s.To, FeedbackAddr)
		}
		if strings.Contains(hdr, IntelAddr) {
			s.To = append(s.To, IntelAddr)
		}
		s.Auto = strings.Contains(hdr, "Auto-Submitted: auto-replied")
		out = append(out, s)
	}
	wav, err := samples.ReadFile("samples/voicemail.wav")
	if err != nil {
		return nil, err
	}
	out = append(out, Sample{Name: "06-pbx-voicemail", To: []string{FeedbackAddr}, Raw: pbxVoicemail(wav)})
	return out, nil
}

// pbxVoicemail is what an office phone system mails for a voicemail: the
// caller's number in the subject and the recording attached.
func pbxVoicemail(wav []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Office PBX <pbx@example.com>\r\nTo: %s\r\nSubject: Voicemail from +1 415 555 0134 (0:05)\r\n", FeedbackAddr)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <sample-06@pbx.example.com>\r\nMIME-Version: 1.0\r\n", time.Date(2026, 3, 4, 17, 2, 0, 0, time.UTC).Format(time.RFC1123Z))
	b.WriteString("Content-Type: multipart/mixed; boundary=\"vm-boundary\"\r\n\r\n")
	b.WriteString("--vm-boundary\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	b.WriteString("You have a new voicemail from +1 415 555 0134, 5 seconds long.\r\n\r\n")
	b.WriteString("--vm-boundary\r\nContent-Type: audio/wav; name=\"voicemail.wav\"\r\n")
	b.WriteString("Content-Disposition: attachment; filename=\"voicemail.wav\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(wav)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--vm-boundary--\r\n")
	return b.Bytes()
}

// Deliver appends raw to the INBOX of each address over IMAP, as a mail
// server would deliver it.
func Deliver(ctx context.Context, imapAddr string, to []string, raw []byte) error {
	raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	for _, user := range to {
		c, err := imapclient.DialInsecure(imapAddr, nil)
		if err != nil {
			return fmt.Errorf("deliver to %s: %w", user, err)
		}
		err = func() error {
			defer c.Close()
			if err := c.Login(user, MailboxPass).Wait(); err != nil {
				return err
			}
			cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: time.Now()})
			if _, err := cmd.Write(raw); err != nil {
				return err
			}
			if err := cmd.Close(); err != nil {
				return err
			}
			if _, err := cmd.Wait(); err != nil {
				return err
			}
			return c.Logout().Wait()
		}()
		if err != nil {
			return fmt.Errorf("deliver to %s: %w", user, err)
		}
	}
	return nil
}
