package config

import "time"

// Twilio configures the voicemail source and the SMS sender.
type Twilio struct {
	AccountSID string `yaml:"account_sid"`
	// AuthToken; env EARSHOT_TWILIO_AUTH_TOKEN.
	AuthToken     Secret `yaml:"auth_token"`
	AuthTokenFile string `yaml:"auth_token_file,omitempty"`
	// APIURL replaces https://api.twilio.com, for a proxy or a test server.
	APIURL string `yaml:"api_url,omitempty"`
	// PollInterval is how often recordings are listed (default 1m).
	PollInterval time.Duration `yaml:"poll_interval"`
	// MediaFormat is wav (default) or mp3.
	MediaFormat string `yaml:"media_format"`
	// DeleteAfterIngest deletes the recording at Twilio once stored.
	DeleteAfterIngest bool `yaml:"delete_after_ingest"`
	// PhoneNumber is the number voicemails are left on and SMS acks come from.
	PhoneNumber string `yaml:"phone_number"`
	// Greeting is what a caller hears before the beep when the number
	// points at Earshot's /twilio/voice.
	Greeting string `yaml:"greeting,omitempty"`
	// MaxRecordingLength caps a voicemail left through /twilio/voice
	// (default 5m).
	MaxRecordingLength time.Duration `yaml:"max_recording_length,omitempty"`
	// Attestation is the weakest STIR/SHAKEN attestation of the caller's
	// number (Twilio's StirVerstat) that credits a call to the rep with
	// that number by itself: A (default), B, C, or none to credit every
	// call. A weaker or missing one is flagged for a manager.
	Attestation string `yaml:"attestation"`
}

// Transcribe chooses the speech-to-text engine.
type Transcribe struct {
	// Engine is none (default), openai, whisper, twilio or command.
	Engine  string              `yaml:"engine"`
	OpenAI  OpenAI              `yaml:"openai,omitempty"`
	Whisper Whisper             `yaml:"whisper,omitempty"`
	Command Command             `yaml:"command,omitempty"`
	Twilio  TwilioTranscription `yaml:"twilio,omitempty"`
	// Timeout bounds one transcription (default 2m).
	Timeout time.Duration `yaml:"timeout"`
	// Vocabulary adds words the engines should expect, besides the
	// competitor and product names.
	Vocabulary []string `yaml:"vocabulary,omitempty"`
}

// OpenAI configures an OpenAI-compatible /v1/audio/transcriptions server.
type OpenAI struct {
	BaseURL string `yaml:"base_url"`
	Model   string `yaml:"model"`
	// APIKey; env EARSHOT_OPENAI_API_KEY.
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file,omitempty"`
	// Language is the ISO-639-1 code of the spoken language, when known.
	Language string `yaml:"language,omitempty"`
	// ResponseFormat is json (default) or verbose_json, which also reports
	// the language and a confidence.
	ResponseFormat string `yaml:"response_format,omitempty"`
}

// Whisper configures the whisper engine: whisper.cpp's whisper-server,
// which Earshot runs as a child process, or one already running.
type Whisper struct {
	// BaseURL points at a running whisper-server started with
	// --inference-path /v1/audio/transcriptions; empty runs Server.
	BaseURL string `yaml:"base_url,omitempty"`
	// Server is the whisper-server program (default whisper-server on
	// PATH); `scripts/whisper paths` prints where the installer put it.
	Server string `yaml:"server,omitempty"`
	// Model is the ggml model file; required unless BaseURL is set.
	Model string `yaml:"model,omitempty"`
	// Language is the ISO-639-1 code of the spoken language (default en),
	// or auto to detect it.
	Language string `yaml:"language,omitempty"`
	// Threads is how many threads the server decodes with (default: the
	// number of CPUs, at most 4).
	Threads int `yaml:"threads,omitempty"`
	// StartTimeout bounds the server's start, loading the model included
	// (default 1m).
	StartTimeout time.Duration `yaml:"start_timeout,omitempty"`
	// Args are more arguments for the server, e.g. [--beam-size, "5"].
	Args []string `yaml:"args,omitempty"`
}

// Command configures a local speech-to-text program.
type Command struct {
	// Argv is the program and its arguments; {audio} is replaced by the file.
	Argv []string `yaml:"argv"`
	// SampleRate, when set, resamples the audio to mono at this rate with sox first.
	SampleRate int `yaml:"sample_rate"`
	// ModelRate is the sample rate the program's acoustic model was made
	// for; audio recorded below it (8 kHz telephone audio for a 16 kHz
	// model) is transcribed but marked unreliable. Default: SampleRate.
	ModelRate int `yaml:"model_rate,omitempty"`
	// Sox is the sox program (default "sox" on PATH).
	Sox string `yaml:"sox,omitempty"`
}

// TwilioTranscription configures the twilio engine.
type TwilioTranscription struct {
	// Wait is how long after a recording Twilio's transcription may take
	// before the voicemail waits for a manager instead (default 10m).
	Wait time.Duration `yaml:"wait,omitempty"`
}
