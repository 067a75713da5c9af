package transcribe

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/config"
	"github.com/earshot-dev/earshot/internal/testenv"
)

// pocketsphinx returns the command engine running pocketsphinx on audio
// resampled by sox to 16 kHz, as an installation would configure it.
func pocketsphinx(t testing.TB) Transcriber {
	t.Helper()
	bin := testenv.Binary(t, testenv.EnvPocketsphinx, "/usr/bin/pocketsphinx_continuous")
	sox := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	return command(t, config.Command{Argv: []string{bin, "-infile", "{audio}", "-logfn", "/dev/null"},
		SampleRate: 16000, Sox: sox}, 10*time.Minute) // generous: a loaded machine decodes slowly
}

func command(t testing.TB, cfg config.Command, timeout time.Duration) Transcriber {
	t.Helper()
	tr, err := New(config.Transcribe{Engine: "command", Command: cfg, Timeout: timeout}, &Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestPocketsphinxCorpus measures pocketsphinx's word error rate on the
// shared 16 kHz speech set through the command engine. Measured with
// pocketsphinx 0.8 en-us on Debian 12: 0 % on goforward and forever,
// 21–75 % on the LibriVox sentences, 0–133 % on the short card names, 64 %
// on JFK; 40 % overall (50 errors in 125 words). The bound leaves room for
// other builds of the model.
func TestPocketsphinxCorpus(t *testing.T) {
	tr := pocketsphinx(t)
	var (
		mu          sync.Mutex
		errs, total int
	)
	t.Run("files", func(t *testing.T) {
		for _, ref := range references(t) {
			if strings.HasSuffix(ref.path, ".raw") || strings.HasSuffix(ref.path, ".mp3") {
				continue // headerless PCM (its derived WAV is in the set) and MP3 (TestCommandMP3)
			}
			t.Run(filepath.Base(ref.path), func(t *testing.T) {
				t.Parallel()
				got, err := tr.Transcribe(context.Background(), Audio{Data: readSpeech(t, ref.path), Filename: ref.path})
				if err != nil {
					t.Fatal(err)
				}
				e, n := wordErrors(ref.text, got.Text)
				t.Logf("%s: WER %3.0f%% (%d/%d) %q", filepath.Base(ref.path), 100*float64(e)/float64(n), e, n, got.Text)
				mu.Lock()
				errs, total = errs+e, total+n
				mu.Unlock()
				if got.Engine != "command" || (got.Text == "") != (got.Empty != "") {
					t.Errorf("transcript %+v: engine and empty reason inconsistent", got)
				}
			})
		}
	})
	if total == 0 {
		t.Fatal("no reference transcripts read")
	}
	wer := float64(errs) / float64(total)
	t.Logf("overall WER %.1f%% (%d errors in %d words)", 100*wer, errs, total)
	if wer > 0.55 {
		t.Errorf("overall WER %.1f%% is above the 55%% bound", 100*wer)
	}
}

// TestCommandFlite checks keywords on speech synthesised for the test: the
// names and words routing depends on must come through.
func TestCommandFlite(t *testing.T) {
	tr := pocketsphinx(t)
	dir := t.TempDir()
	cases := []struct {
		text     string
		keywords []string
	}{
		{"Hi this is Dana from the Boston office. Umbrella is offering a forty percent discount to our biggest customers.",
			[]string{"umbrella", "discount", "forty percent", "boston"}},
		{"Hi this is Dana from the Boston office. Apex is offering a forty percent discount to our biggest customers.",
			[]string{"apex", "discount"}},
	}
	for i, c := range cases {
		file := flite(t, dir, "vm"+strconv.Itoa(i)+".wav", c.text)
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		got, err := tr.Transcribe(context.Background(), Audio{Data: data})
		if err != nil {
			t.Fatal(err)
		}
		e, n := wordErrors(c.text, got.Text)
		t.Logf("WER %.0f%%: %q", 100*float64(e)/float64(n), got.Text)
		for _, k := range c.keywords {
			if !strings.Contains(got.Text, k) {
				t.Errorf("transcript %q lacks %q", got.Text, k)
			}
		}
	}
}

// TestCommandTelephone runs 8 kHz telephone audio, what Twilio records,
// through the resampler: the program must get 16 kHz mono 16-bit WAV of
// the same length. (pocketsphinx recognises almost nothing at 8 kHz; the
// pipeline's TestBrowserListenQueue runs it on such a voicemail.)
func TestCommandTelephone(t *testing.T) {
	dir := t.TempDir()
	wide := flite(t, dir, "wide.wav", "Umbrella is offering a forty percent discount.")
	phone := filepath.Join(dir, "phone.wav")
	soxConvert(t, wide, phone, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer")
	data, err := os.ReadFile(phone)
	if err != nil {
		t.Fatal(err)
	}
	w, err := parseWAV(data)
	if err != nil || w.sampleRate != 8000 {
		t.Fatalf("fixture is not 8 kHz: %+v %v", w.sampleRate, err)
	}
	for _, c := range []struct{ flag, want string }{{"-r", "16000"}, {"-c", "1"}, {"-b", "16"}, {"-t", "wav"}} {
		if got := handedOff(t, Audio{Data: data}, soxiArgv(t, c.flag)); got != c.want {
			t.Errorf("soxi %s of the handed-off file = %q; want %s", c.flag, got, c.want)
		}
	}
	wantSeconds := float64(len(w.data)) / float64(w.channels*w.bits/8*w.sampleRate)
	if got := number(t, handedOff(t, Audio{Data: data}, soxiArgv(t, "-D"))); math.Abs(got-wantSeconds) > 0.05 {
		t.Errorf("handed-off file lasts %.3f s; the recording %.3f s", got, wantSeconds)
	}
}

// soxReadsMP3 reports whether sox was built with (or given) MP3 support.
func soxReadsMP3(t testing.TB) bool {
	out, _ := exec.Command(testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox"), "-h").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "AUDIO FILE FORMATS:") {
			return strings.Contains(line+" ", " mp3 ")
		}
	}
	return false
}

// TestCommandMP3 feeds jfk.mp3 (MPEG-2 layer III, Twilio's mp3 media
// format): sox decodes it when it has MP3 support (Debian:
// libsox-fmt-mp3); without it the engine must say so plainly rather than
// pass on garbage. With it, the program must get the same speech as
// jfk.wav, the recording it was encoded from, as 16 kHz mono 16-bit WAV:
// the same length and loudness. (What pocketsphinx hears in that format,
// jfk.wav included, is TestPocketsphinxCorpus's to measure.)
func TestCommandMP3(t *testing.T) {
	mp3 := Audio{Data: readSpeech(t, "whisper.cpp/samples/jfk.mp3"), ContentType: "audio/mpeg"}
	if !soxReadsMP3(t) {
		_, err := pocketsphinx(t).Transcribe(context.Background(), mp3)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "libsox-fmt-mp3") {
			t.Fatalf("mp3 without sox support: %v; want ErrUnsupported naming libsox-fmt-mp3", err)
		}
		t.Logf("sox lacks mp3 support here: %v", err)
		return
	}
	wav := Audio{Data: readSpeech(t, "whisper.cpp/samples/jfk.wav")}
	for _, c := range []struct{ flag, want string }{{"-r", "16000"}, {"-c", "1"}, {"-b", "16"}, {"-t", "wav"}} {
		if got := handedOff(t, mp3, soxiArgv(t, c.flag)); got != c.want {
			t.Errorf("soxi %s of the handed-off mp3 = %q; want %s", c.flag, got, c.want)
		}
	}
	seconds := func(a Audio) float64 { return number(t, handedOff(t, a, soxiArgv(t, "-D"))) }
	if got, want := seconds(mp3), seconds(wav); math.Abs(got-want) > 0.2 {
		t.Errorf("handed-off mp3 lasts %.2f s; jfk.wav lasts %.2f s", got, want)
	}
	stat := []string{"sh", "-c", `"$0" "$1" -n stat 2>&1 | sed -n 's/^RMS *amplitude: *//p'`, testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox"), "{audio}"}
	rms := func(a Audio) float64 { return number(t, handedOff(t, a, stat)) }
	got, want := rms(mp3), rms(wav)
	t.Logf("handed-off mp3: RMS amplitude %.4f; jfk.wav %.4f", got, want)
	if want == 0 || math.Abs(got-want)/want > 0.1 {
		t.Errorf("handed-off mp3 has RMS amplitude %.4f; jfk.wav %.4f: not the same speech", got, want)
	}
}

// soxiArgv is the argv of soxi printing one property of {audio}.
func soxiArgv(t testing.TB, flag string) []string {
	sox := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	return []string{filepath.Join(filepath.Dir(sox), "soxi"), flag, "{audio}"}
}

// handedOff runs argv as the command engine's program (resampling to
// 16 kHz, as pocketsphinx is configured) and returns what it printed.
func handedOff(t testing.TB, a Audio, argv []string) string {
	t.Helper()
	sox := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	got, err := command(t, config.Command{Argv: argv, SampleRate: 16000, Sox: sox}, time.Minute).Transcribe(context.Background(), a)
	if err != nil {
		t.Fatalf("%v on the handed-off audio: %v", argv, err)
	}
	return got.Text
}

// number parses a program's printed number.
func number(t testing.TB, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("program printed %q, not a number", s)
	}
	return f
}

// TestCommandRefusesBadAudio checks that malformed, empty and silent audio
// never reaches the program.
func TestCommandRefusesBadAudio(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	tr := command(t, config.Command{Argv: []string{"sh", "-c", "echo ran > " + marker + "; echo words", "{audio}"}}, time.Minute)
	rate := 16000
	cases := []struct {
		why   string
		data  []byte
		bad   bool
		empty string
	}{
		{"bad.wav: corrupt fmt size", readSpeech(t, "pocketsphinx/test/data/bad.wav"), true, ""},
		{"evil.wav: bogus chunk size", readSpeech(t, "pocketsphinx/test/data/evil.wav"), true, ""},
		{"awful.wav: 1 MHz sample rate", readSpeech(t, "pocketsphinx/test/data/awful.wav"), true, ""},
		{"null.wav: no samples", readSpeech(t, "pocketsphinx/test/data/null.wav"), false, EmptyNoAudio},
		{"three seconds of silence", pcmWAV(make([]float64, 3*rate), rate, 1, 16, wavPCM), false, EmptySilence},
		{"three seconds of hiss", pcmWAV(noise(rate, 3, 0.2), rate, 1, 16, wavPCM), false, EmptyNoise},
	}
	for _, c := range cases {
		got, err := tr.Transcribe(context.Background(), Audio{Data: c.data})
		if c.bad != errors.Is(err, ErrBadAudio) || (!c.bad && err != nil) {
			t.Errorf("%s: error %v, want bad audio %v", c.why, err, c.bad)
		}
		if got.Empty != c.empty || got.Text != "" {
			t.Errorf("%s: transcript %+v, want empty with reason %q", c.why, got, c.empty)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the program ran on audio that holds no speech")
	}
	// The same program does run on speech, so the marker proves something.
	got, err := tr.Transcribe(context.Background(), Audio{Data: readSpeech(t, "pocketsphinx/test/data/cards/001.wav")})
	if _, serr := os.Stat(marker); err != nil || serr != nil || got.Text != "words" {
		t.Errorf("speech: %+v, %v, marker %v", got, err, serr)
	}
}

// TestCommandFailures covers a program that fails, one that hangs with a
// helper process, and configurations that cannot work.
func TestCommandFailures(t *testing.T) {
	speech := readSpeech(t, "pocketsphinx/test/data/cards/001.wav")
	failing := command(t, config.Command{Argv: []string{"sh", "-c", "echo 'model not found' >&2; exit 3", "{audio}"}}, time.Minute)
	_, err := failing.Transcribe(context.Background(), Audio{Data: speech})
	if err == nil || Permanent(err) || !strings.Contains(err.Error(), "model not found") {
		t.Errorf("failing program: %v; want a retryable error quoting its stderr", err)
	}

	pidFile := filepath.Join(t.TempDir(), "helper.pid")
	hanging := command(t, config.Command{Argv: []string{"sh", "-c", "sleep 60 & echo $! > " + pidFile + "; wait", "{audio}"}},
		500*time.Millisecond)
	start := time.Now()
	_, err = hanging.Transcribe(context.Background(), Audio{Data: speech})
	if !errors.Is(err, errTimeout) || time.Since(start) > 10*time.Second {
		t.Fatalf("hanging program: %v after %s; want a timeout soon after 500ms", err, time.Since(start))
	}
	pid, perr := os.ReadFile(pidFile)
	if perr != nil {
		t.Fatal(perr)
	}
	if alive(strings.TrimSpace(string(pid))) {
		t.Errorf("the program's helper process %s outlived the time limit", strings.TrimSpace(string(pid)))
	}

	for _, c := range []struct {
		why string
		cfg config.Command
	}{
		{"no argv", config.Command{}},
		{"no {audio} placeholder", config.Command{Argv: []string{"pocketsphinx_continuous", "-infile", "x.wav"}}},
		{"impossible sample rate", config.Command{Argv: []string{"p", "{audio}"}, SampleRate: 100}},
	} {
		if _, err := New(config.Transcribe{Engine: "command", Command: c.cfg}, nil); err == nil {
			t.Errorf("%s: accepted", c.why)
		}
	}
}

// alive reports whether the process runs (a zombie awaiting its parent
// counts as dead).
func alive(pid string) bool {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return false
		}
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

func TestCleanText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"  umbrella\n offered\ta discount \n", "umbrella offered a discount"},
		{"<s> hello <sil> world </s>", "hello world"},
		{"[NOISE] ++BREATH++ price", "price"},
		{"\n\n", ""},
	}
	for _, c := range cases {
		if got := cleanText(c.in); got != c.want {
			t.Errorf("cleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
