#!/usr/bin/env bash
# Measures voicemail recognition on telephone audio and prints the tables
# README's "Choosing a transcription engine" quotes:
#
#   1. each transcription engine available here on ../shared/corpora/speech
#      at its own rate and resampled to 8 kHz (word error rate), and on
#      voicemails naming competitors spoken by espeak-ng and flite at 8 kHz
#      (names found word for word) — transcribe.TestTelephoneSpeech;
#   2. competitor precision and recall on routing/testdata/heard.yaml (those
#      voicemails through pocketsphinx, and hand-written ASR-style variants),
#      with and without matching names by sound and spelling —
#      routing.TestHeardNames.
#
# Needs pocketsphinx_continuous (Debian's en-us model), sox, espeak-ng and
# flite; takes about 3 minutes on 2 cores. Whisper is not measured: its
# weights cannot be downloaded on a machine without the internet.
#
#   bench/speech.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
EARSHOT_MEASURE=1 go test -p 1 -count=1 -v -run '^(TestTelephoneSpeech|TestHeardNames)$' ./transcribe ./routing |
	grep -E '^\s+\S+\.go:[0-9]+: \|' | sed -E 's/^\s+\S+\.go:[0-9]+: //'
