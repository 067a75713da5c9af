package transcribe

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// TestPrecheckCorpus runs the audio check over the shared corpus, the four
// broken WAVs included: pocketsphinx's own tests expect the header of
// bad.wav and evil.wav to fail, awful.wav to be refused for its sample
// rate, and null.wav (zero samples) to decode to nothing without a crash.
func TestPrecheckCorpus(t *testing.T) {
	const data = "pocketsphinx/test/data/"
	cases := []struct {
		file      string
		format    string
		empty     string
		errSubstr string // the error must wrap ErrBadAudio and say this
	}{
		{data + "bad.wav", formatWAV, "", `chunk "fmt " claims 1717986918 bytes`},
		{data + "evil.wav", formatWAV, "", `chunk "HURF" claims 960051513 bytes`},
		{data + "awful.wav", formatWAV, "", "sample rate 1092676 Hz"},
		{data + "null.wav", formatWAV, EmptyNoAudio, ""},
		{data + "goforward.raw", formatUnknown, "", "unrecognised audio format"},
		{data + "goforward.derived.wav", formatWAV, "", ""},
		{data + "cards/001.wav", formatWAV, "", ""},
		{data + "librivox/sense_and_sensibility_01_austen_64kb-0880.wav", formatWAV, "", ""},
		{"whisper.cpp/samples/jfk.wav", formatWAV, "", ""},
		{"whisper.cpp/samples/jfk.mp3", formatMP3, "", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			format, empty, err := precheck(readSpeech(t, c.file))
			if format != c.format || empty != c.empty {
				t.Errorf("format %q empty %q, want %q %q", format, empty, c.format, c.empty)
			}
			switch {
			case c.errSubstr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case c.errSubstr != "" && (!errors.Is(err, ErrBadAudio) || !strings.Contains(err.Error(), c.errSubstr)):
				t.Errorf("error %v, want ErrBadAudio saying %q", err, c.errSubstr)
			}
		})
	}
}

// TestPrecheckMade covers what the corpus lacks: other sample encodings,
// cut files, silence and steady noise.
func TestPrecheckMade(t *testing.T) {
	speech, rate := samplesOf(t, readSpeech(t, "pocketsphinx/test/data/goforward.derived.wav"))
	scaled := func(s []float64, k float64) []float64 {
		out := make([]float64, len(s))
		for i := range s {
			out[i] = s[i] * k
		}
		return out
	}
	mixed := scaled(speech, 1)
	for i, n := range noise(rate, float64(len(speech))/float64(rate), 0.03) {
		mixed[i] += n
	}
	tone := make([]float64, rate*2)
	for i := range tone {
		tone[i] = 0.3 * math.Sin(2*math.Pi*440*float64(i)/float64(rate))
	}
	whole := pcmWAV(speech, rate, 1, 16, wavPCM)
	cases := []struct {
		why   string
		data  []byte
		empty string
		bad   bool
	}{
		{"8-bit unsigned speech", pcmWAV(speech, rate, 1, 8, wavPCM), "", false},
		{"24-bit stereo speech", pcmWAV(speech, rate, 2, 24, wavPCM), "", false},
		{"32-bit float speech", pcmWAV(speech, rate, 1, 32, wavFloat), "", false},
		{"speech at 8 kHz telephone rate", pcmWAV(everyOther(speech), rate/2, 1, 16, wavPCM), "", false},
		{"quiet speech (-26 dB)", pcmWAV(scaled(speech, 0.05), rate, 1, 16, wavPCM), "", false},
		{"speech over hiss", pcmWAV(mixed, rate, 1, 16, wavPCM), "", false},
		{"digital silence", pcmWAV(make([]float64, rate*3), rate, 1, 16, wavPCM), EmptySilence, false},
		{"faint hiss only", pcmWAV(noise(rate, 3, 0.0005), rate, 1, 16, wavPCM), EmptySilence, false},
		{"loud steady hiss", pcmWAV(noise(rate, 3, 0.3), rate, 1, 16, wavPCM), EmptyNoise, false},
		{"steady hum", pcmWAV(tone, rate, 1, 16, wavPCM), EmptyNoise, false},
		{"data chunk cut short is read up to the end", whole[:len(whole)/2], "", false},
		{"header without data", whole[:36], "", true},
		{"not a wave file", []byte("RIFF\x00\x00\x00\x00AVI LIST"), "", true},
		{"no bytes at all", nil, EmptyNoAudio, false},
		{"mp3 tag without frames", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x10"), make([]byte, 40)...), "", true},
	}
	for _, c := range cases {
		_, empty, err := precheck(c.data)
		if (err != nil) != c.bad || (err != nil && !errors.Is(err, ErrBadAudio)) {
			t.Errorf("%s: error %v, want bad audio %v", c.why, err, c.bad)
		}
		if empty != c.empty {
			t.Errorf("%s: empty reason %q, want %q", c.why, empty, c.empty)
		}
	}
}

// everyOther halves the sample rate (the corpus is quiet above 4 kHz, so
// no filter is needed for this check).
func everyOther(s []float64) []float64 {
	out := make([]float64, 0, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		out = append(out, s[i])
	}
	return out
}

// TestPrecheckG711 checks the speech test on 8 kHz µ-law and A-law WAV,
// what PBX voicemail-to-email attaches, made by sox from corpus speech.
func TestPrecheckG711(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(speechDir(t), "pocketsphinx/test/data/goforward.derived.wav")
	sox := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	cases := []struct {
		why      string
		argv     []string // OUT stands for the output file
		encoding uint16
		empty    string
	}{
		{"µ-law speech", []string{in, "-r", "8000", "-e", "u-law", "OUT"}, wavMuLaw, ""},
		{"A-law speech", []string{in, "-r", "8000", "-e", "a-law", "OUT"}, wavALaw, ""},
		{"µ-law silence", []string{"-n", "-r", "8000", "-c", "1", "-e", "u-law", "OUT", "trim", "0", "2"}, wavMuLaw, EmptySilence},
	}
	for i, c := range cases {
		out := filepath.Join(dir, strconv.Itoa(i)+".wav")
		argv := slices.Clone(c.argv)
		argv[slices.Index(argv, "OUT")] = out
		if b, err := exec.Command(sox, argv...).CombinedOutput(); err != nil {
			t.Fatalf("%s: sox: %v: %s", c.why, err, b)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		w, err := parseWAV(data)
		if err != nil || w.format != c.encoding || w.bits != 8 {
			t.Fatalf("%s: sox wrote format %d, %d bits (%v); want %d", c.why, w.format, w.bits, err, c.encoding)
		}
		if _, empty, err := precheck(data); err != nil || empty != c.empty {
			t.Errorf("%s: empty %q, %v; want %q", c.why, empty, err, c.empty)
		}
	}
	// The expansion tables' ends: G.711's loudest codes are near full scale.
	if v := muLaw(0x00); v > -0.97 {
		t.Errorf("µ-law 0x00 = %v, want about -0.98", v)
	}
	if v := aLaw(0xAA); v < 0.97 {
		t.Errorf("A-law 0xAA = %v, want about +0.98", v)
	}
}
