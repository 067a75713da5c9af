package transcribe

import (
	"fmt"
	"math"
	"slices"
)

// Thresholds of the speech check, in dB relative to full scale. Speech
// rises and falls with every syllable; silence stays low and steady noise
// (hiss, hum, a line left open) stays flat.
const (
	frameSeconds  = 0.02  // 20 ms analysis frames
	silenceDBFS   = -60.0 // loudest frame below this: silence
	activeDBFS    = -55.0 // a frame that can hold speech is louder than this
	activeAboveDB = 8.0   // … and this far above the recording's quiet frames
	minActiveSecs = 0.15  // speech needs at least this much active audio
	quietQuantile = 0.10  // the quietest tenth of frames gives the noise floor
	minAudioSecs  = 0.001 // below one millisecond there is no audio at all
)

// speechCheck tells from the loudness of 20 ms frames whether samples can
// hold speech. It returns the reason for an empty transcript
// (EmptyNoAudio, EmptySilence, EmptyNoise), or "" when speech may be there.
func speechCheck(samples []float64, rate int) string {
	if rate <= 0 || float64(len(samples))/float64(rate) < minAudioSecs {
		return EmptyNoAudio
	}
	n := max(1, int(float64(rate)*frameSeconds))
	var levels []float64
	for i := 0; i < len(samples); i += n {
		levels = append(levels, rmsDB(samples[i:min(i+n, len(samples))]))
	}
	loudest := slices.Max(levels)
	if loudest < silenceDBFS {
		return EmptySilence
	}
	sorted := slices.Clone(levels)
	slices.Sort(sorted)
	floor := sorted[int(float64(len(sorted)-1)*quietQuantile)]
	active := 0
	for _, l := range levels {
		if l > activeDBFS && l > floor+activeAboveDB {
			active++
		}
	}
	if float64(active)*frameSeconds < minActiveSecs {
		return EmptyNoise
	}
	return ""
}

// rmsDB is the root-mean-square level of samples in dBFS, at least -120.
func rmsDB(samples []float64) float64 {
	var sum float64
	for _, s := range samples {
		sum += s * s
	}
	rms := math.Sqrt(sum / float64(max(1, len(samples))))
	return max(-120, 20*math.Log10(rms+1e-12))
}

// precheck validates the audio and looks for speech where it can decode
// the samples (PCM WAV). It returns the format, and a non-empty reason
// when the audio holds no speech. Malformed audio, and bytes of no known
// audio format, are an error wrapping ErrBadAudio.
func precheck(data []byte) (format, empty string, err error) {
	if len(data) == 0 {
		return formatUnknown, EmptyNoAudio, nil
	}
	format = sniff(data)
	switch format {
	case formatWAV:
		w, err := parseWAV(data)
		if err != nil {
			return format, "", err
		}
		if len(w.data) == 0 {
			return format, EmptyNoAudio, nil
		}
		if samples, ok := w.mono(); ok {
			return format, speechCheck(samples, w.sampleRate), nil
		}
	case formatMP3:
		if err := checkMP3(data); err != nil {
			return format, "", err
		}
	case formatUnknown:
		return format, "", fmt.Errorf("%w: unrecognised audio format", ErrBadAudio)
	}
	return format, "", nil
}
