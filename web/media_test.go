package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAudio: recordings stream with their type and answer range requests,
// so a player can seek.
func TestAudio(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		sc := seedScenario(t, e.st)
		c, _ := e.signIn(t)
		n := len(sc.audio)
		cases := []struct {
			name       string
			item       int64
			rng        string
			code       int
			ctype      string
			contentRng string
			body       []byte
		}{
			{"a voicemail, whole", sc.voicemail, "", 200, "audio/x-wav", "", sc.audio},
			{"the first 100 bytes", sc.voicemail, "bytes=0-99", 206, "audio/x-wav", fmt.Sprintf("bytes 0-99/%d", n), sc.audio[:100]},
			{"a middle range", sc.voicemail, "bytes=1000-1999", 206, "audio/x-wav", fmt.Sprintf("bytes 1000-1999/%d", n), sc.audio[1000:2000]},
			{"the last 10 bytes", sc.voicemail, "bytes=-10", 206, "audio/x-wav", fmt.Sprintf("bytes %d-%d/%d", n-10, n-1, n), sc.audio[n-10:]},
			{"past the end", sc.voicemail, fmt.Sprintf("bytes=%d-", n), 416, "", fmt.Sprintf("bytes */%d", n), nil},
			{"a voicemail-to-email's attachment", sc.pbxMail, "", 200, "audio/wav", "", sc.audio},
			{"its range", sc.pbxMail, "bytes=44-47", 206, "audio/wav", fmt.Sprintf("bytes 44-47/%d", n), sc.audio[44:48]},
			{"an email without audio", sc.acme, "", 404, "", "", nil},
			{"no such item", 99999, "", 404, "", "", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var hdr []string
				if tc.rng != "" {
					hdr = []string{"Range", tc.rng}
				}
				resp, body := get(t, c, fmt.Sprintf("%s/items/%d/audio", e.srv.URL, tc.item), hdr...)
				if resp.StatusCode != tc.code {
					t.Fatalf("status %d, want %d", resp.StatusCode, tc.code)
				}
				if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
					t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
				}
				if resp.Header.Get("Content-Range") != tc.contentRng {
					t.Errorf("Content-Range %q, want %q", resp.Header.Get("Content-Range"), tc.contentRng)
				}
				if tc.body != nil && body != string(tc.body) {
					t.Errorf("body of %d bytes, want %d", len(body), len(tc.body))
				}
				if tc.code == 200 && resp.Header.Get("Accept-Ranges") != "bytes" {
					t.Errorf("Accept-Ranges %q", resp.Header.Get("Accept-Ranges"))
				}
			})
		}
	})
}

// TestRawSource: the source is plain text in a sandbox, never HTML.
func TestRawSource(t *testing.T) {
	e := newEnv(t, "sqlite", nil)
	sc := seedScenario(t, e.st)
	c, _ := e.signIn(t)
	cases := []struct {
		name, path, disposition string
		contains                []string
	}{
		{"an email, shown", fmt.Sprintf("/items/%d/raw", sc.acme), fmt.Sprintf("inline; filename=item-%d.eml", sc.acme),
			[]string{"Content-Type: text/html", "<script>alert(3)</script>"}},
		{"an email, downloaded", fmt.Sprintf("/items/%d/raw?download=1", sc.acme), fmt.Sprintf("attachment; filename=item-%d.eml", sc.acme), nil},
		{"a voicemail's metadata", fmt.Sprintf("/items/%d/raw", sc.voicemail), fmt.Sprintf("inline; filename=item-%d.json", sc.voicemail),
			[]string{`"from": "+15550100"`, fmt.Sprintf("Recording: %d bytes, at /items/%d/audio", len(sc.audio), sc.voicemail)}},
	}
	for _, tc := range cases {
		resp, body := get(t, c, e.srv.URL+tc.path)
		h := resp.Header
		if resp.StatusCode != 200 || h.Get("Content-Type") != "text/plain; charset=utf-8" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(h.Get("Content-Security-Policy"), "sandbox") || h.Get("Content-Disposition") != tc.disposition {
			t.Errorf("%s: %d, headers %v", tc.name, resp.StatusCode, h)
		}
		for _, s := range tc.contains {
			if !strings.Contains(body, s) {
				t.Errorf("%s: body lacks %q", tc.name, s)
			}
		}
	}
	if resp, _ := get(t, c, e.srv.URL+"/items/99999/raw"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown item raw = %d", resp.StatusCode)
	}
}
