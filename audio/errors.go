package audio

import "errors"

// Sentinel errors. Functions wrap them with %w and add the detail (the rate,
// the format code, which header field is wrong), so callers test with
// errors.Is and log the message.
var (
	// ErrUnsupportedRate is returned for a sample-rate conversion with a
	// rate outside MinResampleRate..MaxResampleRate or a ratio whose terms
	// exceed MaxRatioTerm.
	ErrUnsupportedRate = errors.New("audio: unsupported sample rate")

	// ErrNotWAV means the input does not start with a RIFF/WAVE header.
	ErrNotWAV = errors.New("audio: not a WAV file")

	// ErrUnsupportedFormat means a well-formed WAV file uses an encoding
	// or parameters this package does not decode (MP3, ADPCM, ...).
	ErrUnsupportedFormat = errors.New("audio: unsupported WAV format")

	// ErrCorruptWAV means the WAV structure is inconsistent or truncated:
	// a short fmt chunk, zero channels or rate, a block alignment that does
	// not match the sample size, a missing data chunk.
	ErrCorruptWAV = errors.New("audio: corrupt WAV file")

	// ErrWAVTooLarge means the audio data exceeds MaxWAVBytes.
	ErrWAVTooLarge = errors.New("audio: WAV data too large")
)
