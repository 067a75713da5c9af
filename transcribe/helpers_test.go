package transcribe

import (
	"bufio"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/internal/testenv"
)

// speechDir is the shared speech corpus.
func speechDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(testenv.SharedDir(t), "corpora", "speech")
}

// readSpeech reads one file of the shared speech corpus by its path in
// TRANSCRIPTS.tsv.
func readSpeech(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(speechDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reference is one row of TRANSCRIPTS.tsv.
type reference struct {
	path, text string
}

// references reads TRANSCRIPTS.tsv: every file with a spoken reference
// (the broken files say "(NO SPEECH)").
func references(t testing.TB) []reference {
	t.Helper()
	f, err := os.Open(filepath.Join(speechDir(t), "TRANSCRIPTS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []reference
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 3 || strings.HasPrefix(cols[2], "(NO SPEECH)") {
			continue
		}
		out = append(out, reference{path: cols[0], text: cols[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// pcmWAV encodes mono samples in [-1, 1] as a WAV file of the given
// format code, channel count (the samples are copied to every channel)
// and sample width.
func pcmWAV(samples []float64, rate, channels, bits int, format uint16) []byte {
	width := bits / 8
	data := make([]byte, 0, len(samples)*channels*width)
	for _, s := range samples {
		s = max(-1, min(1, s))
		for range channels {
			switch {
			case format == wavFloat:
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(float32(s)))
			case width == 1:
				data = append(data, byte(int(s*127)+128))
			case width == 2:
				data = binary.LittleEndian.AppendUint16(data, uint16(int16(s*32767)))
			case width == 3:
				v := int32(s * 8388607)
				data = append(data, byte(v), byte(v>>8), byte(v>>16))
			}
		}
	}
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(36+len(data)))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, format)
	h = binary.LittleEndian.AppendUint16(h, uint16(channels))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*channels*width))
	h = binary.LittleEndian.AppendUint16(h, uint16(channels*width))
	h = binary.LittleEndian.AppendUint16(h, uint16(bits))
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	return append(h, data...)
}

// samplesOf decodes a mono 16-bit WAV of the corpus.
func samplesOf(t testing.TB, b []byte) ([]float64, int) {
	t.Helper()
	w, err := parseWAV(b)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := w.mono()
	if !ok {
		t.Fatal("corpus file is not PCM")
	}
	return s, w.sampleRate
}

// noise returns seconds of white noise at amplitude amp, from a fixed seed.
func noise(rate int, seconds, amp float64) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]float64, int(float64(rate)*seconds))
	for i := range out {
		out[i] = (r.Float64()*2 - 1) * amp
	}
	return out
}

// flite synthesises text as 16 kHz speech with the rms voice into dir.
func flite(t testing.TB, dir, name, text string) string {
	t.Helper()
	bin := testenv.Binary(t, testenv.EnvFlite, "/usr/bin/flite")
	out := filepath.Join(dir, name)
	if b, err := exec.Command(bin, "-voice", "rms", "-t", text, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("flite: %v: %s", err, b)
	}
	return out
}

// soxConvert runs sox with args between the input and the output file.
func soxConvert(t testing.TB, in, out string, args ...string) {
	t.Helper()
	bin := testenv.Binary(t, testenv.EnvSox, "/usr/bin/sox")
	argv := append([]string{in}, append(args, out)...)
	if b, err := exec.Command(bin, argv...).CombinedOutput(); err != nil {
		t.Fatalf("sox %v: %v: %s", argv, err, b)
	}
}
