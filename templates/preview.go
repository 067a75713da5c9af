package templates

import (
	"fmt"
	"io"
	"strings"
)

// PreviewKinds are the kinds Preview renders.
func PreviewKinds() []string {
	return []string{"ack", "sms", "notice", "digest", "reminder", "manager-digest"}
}

// Preview renders one kind of message with d to w, as `earshot templates
// preview` shows it: the subject, the text part and the HTML part, or the
// SMS text with its encoding and segment count.
func Preview(w io.Writer, s *Set, kind string, d Data) error {
	var (
		r   Rendered
		err error
	)
	switch kind {
	case "ack":
		r, err = s.Ack(d)
		r.Subject = ReplySubject(d.Item.Subject)
	case "sms":
		text, err := s.SMS(d)
		if err != nil {
			return err
		}
		seg := CountSegments(text)
		_, err = fmt.Fprintf(w, "%s\n\n(%s, %d units, %d of at most %d segments)\n",
			text, seg.Encoding, seg.Units, seg.Count, MaxSMSSegments)
		return err
	case "notice":
		r, err = s.Notice(d)
	case "digest":
		r, err = s.Digest(d)
	case "reminder":
		r, err = s.Reminder(d)
	case "manager-digest":
		r, err = s.ManagerDigest(d)
	default:
		return fmt.Errorf("preview: unknown kind %q (want one of %s)", kind, strings.Join(PreviewKinds(), ", "))
	}
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "Subject: %s\n\n%s", r.Subject, r.Text); err != nil {
		return err
	}
	if r.HTML != "" {
		_, err = fmt.Fprintf(w, "\n---- text/html ----\n%s", r.HTML)
	}
	return err
}

// SampleFor returns the sample data for a preview kind.
func SampleFor(kind string) Data {
	switch kind {
	case "ack", "sms":
		return Sample("ack_intel")
	case "manager-digest":
		return Sample("manager_digest")
	}
	return Sample(kind)
}
