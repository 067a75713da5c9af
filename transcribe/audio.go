package transcribe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Audio container formats recognised by their first bytes.
const (
	formatWAV     = "wav"
	formatMP3     = "mp3"
	formatOgg     = "ogg"
	formatFLAC    = "flac"
	formatAMR     = "amr"
	formatM4A     = "m4a"
	formatWebM    = "webm"
	formatUnknown = ""
)

// sniff names the container format of data from its first bytes.
func sniff(data []byte) string {
	switch {
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		return formatWAV
	case bytes.HasPrefix(data, []byte("ID3")), len(data) >= 2 && data[0] == 0xFF && data[1]&0xE0 == 0xE0:
		return formatMP3
	case bytes.HasPrefix(data, []byte("OggS")):
		return formatOgg
	case bytes.HasPrefix(data, []byte("fLaC")):
		return formatFLAC
	case bytes.HasPrefix(data, []byte("#!AMR")):
		return formatAMR
	case len(data) >= 8 && string(data[4:8]) == "ftyp":
		return formatM4A
	case bytes.HasPrefix(data, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return formatWebM
	}
	return formatUnknown
}

// mediaType is the content type of a sniffed format.
func mediaType(format string) string {
	switch format {
	case formatWAV:
		return "audio/wav"
	case formatMP3:
		return "audio/mpeg"
	case formatOgg:
		return "audio/ogg"
	case formatFLAC:
		return "audio/flac"
	case formatAMR:
		return "audio/amr"
	case formatM4A:
		return "audio/mp4"
	case formatWebM:
		return "audio/webm"
	}
	return "application/octet-stream"
}

// WAV format codes (the fmt chunk's wFormatTag).
const (
	wavPCM        = 1
	wavFloat      = 3
	wavALaw       = 6 // G.711, common in PBX voicemail-to-email
	wavMuLaw      = 7
	wavExtensible = 0xFFFE
)

// wav is a parsed RIFF WAVE file.
type wav struct {
	format     uint16 // wFormatTag, or the sub-format of WAVE_FORMAT_EXTENSIBLE
	channels   int
	sampleRate int
	bits       int
	data       []byte // the data chunk, whole frames only
}

// Plausible bounds of a recording's fmt chunk.
const (
	minSampleRate = 4000
	maxSampleRate = 192000
	maxChannels   = 8
)

// parseWAV reads the header of a RIFF WAVE file and returns its format and
// samples. Every error wraps ErrBadAudio: a chunk that claims more bytes
// than the file has, a fmt chunk of an impossible size, a sample rate or
// channel count no recorder produces, or no data chunk at all. A data
// chunk longer than the file is cut to the file (streaming writers leave
// its size unset).
func parseWAV(b []byte) (wav, error) {
	var w wav
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return w, fmt.Errorf("%w: not a RIFF WAVE file", ErrBadAudio)
	}
	haveFmt := false
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int64(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		off += 8
		left := int64(len(b) - off)
		if id == "data" {
			if !haveFmt {
				return w, fmt.Errorf("%w: wav data chunk before its fmt chunk", ErrBadAudio)
			}
			size = min(size, left)
			frame := int64(w.channels * max(w.bits/8, 1))
			w.data = b[off : off+int(size-size%frame)]
			return w, nil
		}
		if size > left {
			return w, fmt.Errorf("%w: wav chunk %q claims %d bytes but %d remain", ErrBadAudio, printable(id), size, left)
		}
		if id == "fmt " {
			if err := w.readFmt(b[off : off+int(size)]); err != nil {
				return w, err
			}
			haveFmt = true
		}
		off += int(size + size%2)
	}
	if !haveFmt {
		return w, fmt.Errorf("%w: wav has no fmt chunk", ErrBadAudio)
	}
	return w, fmt.Errorf("%w: wav has no data chunk", ErrBadAudio)
}

// readFmt decodes and checks a fmt chunk.
func (w *wav) readFmt(c []byte) error {
	if len(c) < 16 {
		return fmt.Errorf("%w: wav fmt chunk of %d bytes, want at least 16", ErrBadAudio, len(c))
	}
	w.format = binary.LittleEndian.Uint16(c[0:2])
	w.channels = int(binary.LittleEndian.Uint16(c[2:4]))
	w.sampleRate = int(binary.LittleEndian.Uint32(c[4:8]))
	w.bits = int(binary.LittleEndian.Uint16(c[14:16]))
	if w.format == wavExtensible && len(c) >= 26 {
		w.format = binary.LittleEndian.Uint16(c[24:26])
	}
	switch {
	case w.channels < 1 || w.channels > maxChannels:
		return fmt.Errorf("%w: wav with %d channels", ErrBadAudio, w.channels)
	case w.sampleRate < minSampleRate || w.sampleRate > maxSampleRate:
		return fmt.Errorf("%w: wav sample rate %d Hz is outside %d-%d Hz", ErrBadAudio, w.sampleRate, minSampleRate, maxSampleRate)
	case w.bits < 1 || w.bits > 64:
		return fmt.Errorf("%w: wav with %d bits per sample", ErrBadAudio, w.bits)
	}
	return nil
}

// mono returns the samples as one channel in [-1, 1]; ok is false for
// encodings it does not decode (ADPCM, GSM and other compressed formats).
func (w wav) mono() (samples []float64, ok bool) {
	width := w.bits / 8
	var decode func([]byte) float64
	switch {
	case w.format == wavPCM && w.bits%8 == 0 && width >= 1 && width <= 4:
		decode = func(b []byte) float64 { return pcmSample(b, width) }
	case w.format == wavFloat && w.bits == 32:
		decode = func(b []byte) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) }
	case w.format == wavMuLaw && w.bits == 8:
		decode = func(b []byte) float64 { return muLaw(b[0]) }
	case w.format == wavALaw && w.bits == 8:
		decode = func(b []byte) float64 { return aLaw(b[0]) }
	default:
		return nil, false
	}
	frame := width * w.channels
	n := len(w.data) / frame
	samples = make([]float64, n)
	for i := range n {
		var sum float64
		for c := range w.channels {
			sum += decode(w.data[i*frame+c*width:])
		}
		samples[i] = sum / float64(w.channels)
	}
	return samples, true
}

// muLaw expands a G.711 µ-law byte.
func muLaw(b byte) float64 {
	u := ^b
	mag := ((int(u&0x0F) << 3) + 0x84) << ((u >> 4) & 7)
	mag -= 0x84
	if u&0x80 != 0 {
		mag = -mag
	}
	return float64(mag) / 32768
}

// aLaw expands a G.711 A-law byte.
func aLaw(b byte) float64 {
	a := b ^ 0x55
	mant, exp := int(a&0x0F), (a>>4)&7
	mag := (mant << 4) + 8
	if exp > 0 {
		mag = ((mant << 4) + 0x108) << (exp - 1)
	}
	if a&0x80 == 0 {
		mag = -mag
	}
	return float64(mag) / 32768
}

// pcmSample decodes one little-endian PCM sample of width bytes.
func pcmSample(b []byte, width int) float64 {
	switch width {
	case 1: // 8-bit WAV is unsigned
		return (float64(b[0]) - 128) / 128
	case 2:
		return float64(int16(binary.LittleEndian.Uint16(b))) / 32768
	case 3:
		v := int32(b[0]) | int32(b[1])<<8 | int32(int8(b[2]))<<16
		return float64(v) / (1 << 23)
	default:
		return float64(int32(binary.LittleEndian.Uint32(b))) / (1 << 31)
	}
}

// checkMP3 looks for an MPEG audio frame after an optional ID3v2 tag.
func checkMP3(b []byte) error {
	_, err := mp3Frame(b)
	return err
}

// mp3Frame returns the offset of the first MPEG audio frame header, after
// an optional ID3v2 tag.
func mp3Frame(b []byte) (int, error) {
	off := 0
	if bytes.HasPrefix(b, []byte("ID3")) {
		if len(b) < 10 {
			return 0, fmt.Errorf("%w: mp3 id3 tag cut short", ErrBadAudio)
		}
		size := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
		off = 10 + size
		if b[5]&0x10 != 0 { // footer present
			off += 10
		}
	}
	// Some encoders pad the tag; look a little further for the first frame.
	for end := min(len(b)-1, off+4096); off < end; off++ {
		if b[off] == 0xFF && b[off+1]&0xE0 == 0xE0 {
			return off, nil
		}
	}
	return 0, fmt.Errorf("%w: no mp3 frame found", ErrBadAudio)
}

// mp3Rates are the sample rates of MPEG audio by version (the header's two
// version bits: 2.5, reserved, 2, 1) and rate index.
var mp3Rates = [4][3]int{{11025, 12000, 8000}, {}, {22050, 24000, 16000}, {44100, 48000, 32000}}

// recordedRate returns the sample rate the audio was recorded at, read from
// a WAV header, the first MP3 frame or an AMR file's magic; 0 when the
// format does not say or the file is malformed.
func recordedRate(data []byte) int {
	switch sniff(data) {
	case formatWAV:
		if w, err := parseWAV(data); err == nil {
			return w.sampleRate
		}
	case formatMP3:
		off, err := mp3Frame(data)
		if err != nil || off+2 >= len(data) {
			return 0
		}
		version, index := data[off+1]>>3&3, data[off+2]>>2&3
		if index < 3 {
			return mp3Rates[version][index]
		}
	case formatAMR:
		if bytes.HasPrefix(data, []byte("#!AMR-WB")) {
			return 16000
		}
		return 8000 // AMR narrowband is telephone speech by definition
	}
	return 0
}

// printable shows a chunk id safely in an error message.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E {
			return '?'
		}
		return r
	}, s)
}
