package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

// Limits that keep a lying or hostile header from costing unbounded memory.
const (
	// MaxWAVBytes is the most audio data ReadWAV loads into memory.
	// Longer files are read with a WAVReader.
	MaxWAVBytes = 1 << 30
	// MaxWAVRate is the highest sample rate accepted; a frame of audio is
	// allocated from the rate, so it must be bounded.
	MaxWAVRate = 768000
	// MinWAVRate is the lowest sample rate accepted (a 20 ms frame must
	// hold samples).
	MinWAVRate = 1000
)

// WAV format codes (wFormatTag).
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavAlaw       = 0x0006
	wavMulaw      = 0x0007
	wavExtensible = 0xFFFE
)

// unknownSize is the data size streaming writers put in the header when they
// cannot seek back to fill it in.
const unknownSize = 0xFFFFFFFF

// Format names reported in WAVInfo.Format.
const (
	FormatPCM   = "pcm"
	FormatFloat = "float"
	FormatMulaw = "mulaw"
	FormatAlaw  = "alaw"
)

// WAVInfo describes a WAV file as stored. The samples handed out are always
// mono PCM16 at Rate, whatever Channels and Format say.
type WAVInfo struct {
	Rate          int
	Channels      int
	BitsPerSample int
	Format        string // FormatPCM, FormatFloat, FormatMulaw or FormatAlaw
	// Duration is the play time. From NewWAVReader it comes from the
	// header and is 0 when the header does not know it (streamed WAV);
	// from ReadWAV it is the length of the audio actually read.
	Duration time.Duration
}

// WAVReader decodes a WAV stream incrementally into mono PCM16, so long
// recordings need not be held in memory. It implements Reader with 20 ms
// frames.
type WAVReader struct {
	r          io.Reader
	info       WAVInfo
	decode     func(raw []byte) int // one channel sample, scaled to int16 range
	width      int                  // bytes per channel sample
	blockAlign int                  // bytes per multi-channel sample
	remaining  int64                // data bytes left per the header; -1 to EOF
	raw        []byte
	err        error // sticky: io.EOF or the read error
}

var _ Reader = (*WAVReader)(nil)

// NewWAVReader reads the WAV header up to the start of the audio data.
// Unknown chunks are skipped. Errors wrap ErrNotWAV, ErrUnsupportedFormat or
// ErrCorruptWAV, or are the underlying read error.
func NewWAVReader(r io.Reader) (*WAVReader, error) {
	var riff [12]byte
	if n, err := io.ReadFull(r, riff[:]); err != nil {
		if isEOF(err) {
			return nil, fmt.Errorf("%w: %d bytes, too short for a RIFF header", ErrNotWAV, n)
		}
		return nil, err
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: header is %q...%q, want \"RIFF\"...\"WAVE\"", ErrNotWAV, riff[0:4], riff[8:12])
	}

	w := &WAVReader{r: r}
	haveFmt := false
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if !isEOF(err) {
				return nil, err
			}
			if !haveFmt {
				return nil, fmt.Errorf("%w: no fmt chunk", ErrCorruptWAV)
			}
			return nil, fmt.Errorf("%w: no data chunk", ErrCorruptWAV)
		}
		id, size := string(hdr[:4]), binary.LittleEndian.Uint32(hdr[4:])
		switch id {
		case "fmt ":
			if err := w.readFormat(size); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk before fmt chunk", ErrCorruptWAV)
			}
			w.remaining = int64(size)
			if size == unknownSize {
				w.remaining = -1
			} else {
				samples := int64(size) / int64(w.blockAlign)
				w.info.Duration = time.Duration(samples * int64(time.Second) / int64(w.info.Rate))
			}
			return w, nil
		default:
			if err := skip(r, int64(size)+int64(size&1)); err != nil {
				if isEOF(err) {
					return nil, fmt.Errorf("%w: truncated in %q chunk, no data chunk", ErrCorruptWAV, id)
				}
				return nil, err
			}
		}
	}
}

// readFormat parses a fmt chunk of the given size.
func (w *WAVReader) readFormat(size uint32) error {
	if size < 16 {
		return fmt.Errorf("%w: fmt chunk of %d bytes, want at least 16", ErrCorruptWAV, size)
	}
	// Only the first 40 bytes (WAVE_FORMAT_EXTENSIBLE) mean anything here.
	var b [40]byte
	n := min(int(size), len(b))
	if _, err := io.ReadFull(w.r, b[:n]); err != nil {
		if isEOF(err) {
			return fmt.Errorf("%w: truncated fmt chunk", ErrCorruptWAV)
		}
		return err
	}
	if err := skip(w.r, int64(size)-int64(n)+int64(size&1)); err != nil {
		if isEOF(err) {
			return fmt.Errorf("%w: truncated fmt chunk", ErrCorruptWAV)
		}
		return err
	}

	le := binary.LittleEndian
	code := le.Uint16(b[0:])
	channels := int(le.Uint16(b[2:]))
	rate := int(le.Uint32(b[4:]))
	blockAlign := int(le.Uint16(b[12:]))
	bits := int(le.Uint16(b[14:]))

	if code == wavExtensible {
		if size < 40 {
			return fmt.Errorf("%w: extensible fmt chunk of %d bytes, want 40", ErrCorruptWAV, size)
		}
		// The sub-format GUID embeds a classic format code in its first
		// two bytes; the rest is a fixed suffix.
		const suffix = "\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
		if string(b[26:40]) != suffix {
			return fmt.Errorf("%w: extensible sub-format GUID % x", ErrUnsupportedFormat, b[24:40])
		}
		code = le.Uint16(b[24:])
	}

	switch {
	case channels == 0:
		return fmt.Errorf("%w: zero channels", ErrCorruptWAV)
	case rate == 0:
		return fmt.Errorf("%w: zero sample rate", ErrCorruptWAV)
	case rate < MinWAVRate || rate > MaxWAVRate:
		return fmt.Errorf("%w: sample rate %d Hz outside %d..%d", ErrUnsupportedFormat, rate, MinWAVRate, MaxWAVRate)
	}

	switch {
	case code == wavPCM && bits == 8:
		w.info.Format, w.decode = FormatPCM, decodeU8
	case code == wavPCM && bits == 16:
		w.info.Format, w.decode = FormatPCM, decodeS16
	case code == wavPCM && bits == 24:
		w.info.Format, w.decode = FormatPCM, decodeS24
	case code == wavPCM && bits == 32:
		w.info.Format, w.decode = FormatPCM, decodeS32
	case code == wavFloat && bits == 32:
		w.info.Format, w.decode = FormatFloat, decodeF32
	case code == wavFloat && bits == 64:
		w.info.Format, w.decode = FormatFloat, decodeF64
	case code == wavMulaw && bits == 8:
		w.info.Format, w.decode = FormatMulaw, decodeMulaw
	case code == wavAlaw && bits == 8:
		w.info.Format, w.decode = FormatAlaw, decodeAlaw
	case code == wavPCM || code == wavFloat || code == wavMulaw || code == wavAlaw:
		return fmt.Errorf("%w: %s with %d bits per sample", ErrUnsupportedFormat, formatName(code), bits)
	default:
		return fmt.Errorf("%w: format code 0x%04X (%s)", ErrUnsupportedFormat, code, formatName(code))
	}

	w.width = bits / 8
	if blockAlign != channels*w.width {
		return fmt.Errorf("%w: block align %d, want %d for %d channels of %d bits", ErrCorruptWAV, blockAlign, channels*w.width, channels, bits)
	}
	w.blockAlign = blockAlign
	w.info.Rate, w.info.Channels, w.info.BitsPerSample = rate, channels, bits
	return nil
}

// Info describes the stream.
func (w *WAVReader) Info() WAVInfo { return w.info }

// Read decodes up to len(dst) mono samples into dst. It fills dst unless
// the data ends, and returns io.EOF once no sample is left. A trailing
// partial sample (a file cut mid-block) is dropped.
func (w *WAVReader) Read(dst []int16) (int, error) {
	n := 0
	for n < len(dst) && w.err == nil {
		want := int64(len(dst)-n) * int64(w.blockAlign)
		want = min(want, int64(max(32<<10, w.blockAlign)))
		if w.remaining >= 0 {
			want = min(want, w.remaining)
		}
		want -= want % int64(w.blockAlign)
		if want == 0 {
			w.err = io.EOF
			break
		}
		if int64(cap(w.raw)) < want {
			w.raw = make([]byte, want)
		}
		raw := w.raw[:want]
		got, err := io.ReadFull(w.r, raw)
		if w.remaining >= 0 {
			w.remaining -= int64(got)
		}
		if err != nil {
			w.err = err
			if isEOF(err) {
				w.err = io.EOF
			}
		}
		n += w.decodeBlocks(dst[n:], raw[:got-got%w.blockAlign])
	}
	if n == 0 && w.err != nil {
		return 0, w.err
	}
	if w.err != nil && w.err != io.EOF {
		return n, w.err
	}
	return n, nil
}

// ReadFrame returns the next 20 ms of audio in a new frame (the last one may
// be shorter), or io.EOF.
func (w *WAVReader) ReadFrame() (Frame, error) {
	buf := make([]int16, SamplesPerFrame(w.info.Rate))
	n, err := w.Read(buf)
	if n == 0 {
		return Frame{}, err
	}
	return Frame{Rate: w.info.Rate, Samples: buf[:n:n]}, err
}

// decodeBlocks turns whole blocks of raw into mono samples, averaging the
// channels.
func (w *WAVReader) decodeBlocks(dst []int16, raw []byte) int {
	ch := w.info.Channels
	n := len(raw) / w.blockAlign
	for i := range n {
		block := raw[i*w.blockAlign : (i+1)*w.blockAlign]
		if ch == 1 {
			dst[i] = int16(w.decode(block))
			continue
		}
		sum := 0
		for c := range ch {
			sum += w.decode(block[c*w.width:])
		}
		dst[i] = int16(divRound(sum, ch))
	}
	return n
}

func divRound(a, b int) int {
	if a < 0 {
		return -((-a + b/2) / b)
	}
	return (a + b/2) / b
}

func decodeU8(b []byte) int  { return (int(b[0]) - 128) << 8 }
func decodeS16(b []byte) int { return int(int16(binary.LittleEndian.Uint16(b))) }

func decodeS24(b []byte) int {
	v := int(int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8)
	return min((v+1<<7)>>8, math.MaxInt16)
}

func decodeS32(b []byte) int {
	v := int(int32(binary.LittleEndian.Uint32(b)))
	return min((v+1<<15)>>16, math.MaxInt16)
}

func decodeF32(b []byte) int {
	return floatToPCM(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
}

func decodeF64(b []byte) int {
	return floatToPCM(math.Float64frombits(binary.LittleEndian.Uint64(b)))
}

func decodeMulaw(b []byte) int { return int(mulawTable[b[0]]) }
func decodeAlaw(b []byte) int  { return int(alawTable[b[0]]) }

func floatToPCM(f float64) int {
	if f != f { // NaN
		return 0
	}
	return int(math.Round(max(math.MinInt16, min(math.MaxInt16, f*fullScale))))
}

// ReadWAV decodes a whole WAV stream into mono PCM16 (channels averaged).
// It reads at most MaxWAVBytes of audio data; a data size the header does
// not know, or overstates, reads to the end of the input.
func ReadWAV(r io.Reader) ([]int16, WAVInfo, error) {
	w, err := NewWAVReader(r)
	if err != nil {
		return nil, WAVInfo{}, err
	}
	info := w.Info()
	// Trust the header only for a modest first allocation; append grows
	// with what is really there.
	capHint := int64(1 << 16)
	if w.remaining >= 0 {
		capHint = min(capHint, w.remaining/int64(w.blockAlign))
	}
	samples := make([]int16, 0, capHint)
	// Bound both the bytes read and the memory returned.
	maxSamples := MaxWAVBytes / max(w.blockAlign, 2)
	buf := make([]int16, 8192)
	for {
		n, err := w.Read(buf)
		samples = append(samples, buf[:n]...)
		if len(samples) > maxSamples {
			return nil, info, fmt.Errorf("%w: more than %d bytes of audio", ErrWAVTooLarge, MaxWAVBytes)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, info, err
		}
	}
	info.Duration = time.Duration(int64(len(samples)) * int64(time.Second) / int64(info.Rate))
	return samples, info, nil
}

// ReadWAVFile reads a WAV file into mono PCM16; see ReadWAV.
func ReadWAVFile(path string) ([]int16, WAVInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, WAVInfo{}, err
	}
	defer f.Close()
	samples, info, err := ReadWAV(bufio.NewReader(f))
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	return samples, info, nil
}

// WriteWAV writes samples as a 16-bit PCM mono WAV file at rate.
func WriteWAV(w io.Writer, samples []int16, rate int) error {
	if rate < MinWAVRate || rate > MaxWAVRate {
		return fmt.Errorf("%w: %d Hz for a WAV file, want %d..%d", ErrUnsupportedRate, rate, MinWAVRate, MaxWAVRate)
	}
	dataSize := int64(len(samples)) * 2
	if dataSize > math.MaxUint32-36 {
		return fmt.Errorf("%w: %d samples do not fit a RIFF file", ErrWAVTooLarge, len(samples))
	}
	le := binary.LittleEndian
	hdr := make([]byte, 0, 44)
	hdr = append(hdr, "RIFF"...)
	hdr = le.AppendUint32(hdr, uint32(36+dataSize))
	hdr = append(hdr, "WAVEfmt "...)
	hdr = le.AppendUint32(hdr, 16)
	hdr = le.AppendUint16(hdr, wavPCM)
	hdr = le.AppendUint16(hdr, 1)              // channels
	hdr = le.AppendUint32(hdr, uint32(rate))   // sample rate
	hdr = le.AppendUint32(hdr, uint32(rate*2)) // byte rate
	hdr = le.AppendUint16(hdr, 2)              // block align
	hdr = le.AppendUint16(hdr, 16)             // bits per sample
	hdr = append(hdr, "data"...)
	hdr = le.AppendUint32(hdr, uint32(dataSize))
	if _, err := w.Write(hdr); err != nil {
		return err
	}

	buf := make([]byte, 0, 8192)
	for len(samples) > 0 {
		chunk := samples[:min(len(samples), cap(buf)/2)]
		buf = buf[:0]
		for _, s := range chunk {
			buf = le.AppendUint16(buf, uint16(s))
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		samples = samples[len(chunk):]
	}
	return nil
}

// WriteWAVFile writes samples to path as a 16-bit PCM mono WAV file.
func WriteWAVFile(path string, samples []int16, rate int) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	return WriteWAV(f, samples, rate)
}

func formatName(code uint16) string {
	switch code {
	case wavPCM:
		return "PCM"
	case wavFloat:
		return "IEEE float"
	case wavAlaw:
		return "G.711 A-law"
	case wavMulaw:
		return "G.711 mu-law"
	case 0x0002:
		return "Microsoft ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10"
	case 0x0050:
		return "MPEG"
	case 0x0055:
		return "MP3"
	case 0x0064, 0x0045:
		return "G.726 ADPCM"
	case 0x00FF, 0x1610:
		return "AAC"
	case wavExtensible:
		return "extensible"
	default:
		return "unknown"
	}
}

func skip(r io.Reader, n int64) error {
	if n <= 0 {
		return nil
	}
	got, err := io.CopyN(io.Discard, r, n)
	if got < n && err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
