package sphinx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// PocketSphinx reads acoustic model files trusting the counts in their
// headers: a truncated (half-copied) mdef crashes the process inside
// ps_init and a truncated transition_matrices makes it call exit(). So the
// binary files are checked here first: each declares its dimensions, which
// give the size the file must have.

var errTruncated = errors.New("truncated or corrupt")

// checkMdef checks a binary model definition ("BMDF") against the size its
// counts imply.
func checkMdef(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	head := make([]byte, 12)
	if _, err := io.ReadFull(f, head); err != nil {
		return errTruncated
	}
	if string(head[:4]) != "BMDF" {
		// A text mdef: PocketSphinx parses it line by line and copes with
		// a short file.
		return nil
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	descLen := int64(int32(bo.Uint32(head[8:])))
	if descLen < 0 || descLen > 1<<20 {
		return errTruncated
	}
	if _, err := f.Seek(descLen, io.SeekCurrent); err != nil {
		return errTruncated
	}
	var c struct{ NCiphone, NPhone, NEmitState, NCiSen, NSen, NTmat, NSseq, NCtx, NCdTree, Sil int32 }
	if err := binary.Read(f, bo, &c); err != nil {
		return errTruncated
	}
	if c.NCiphone <= 0 || c.NPhone < c.NCiphone || c.NSseq < 0 || c.NCdTree < 0 || c.NEmitState < 0 {
		return errTruncated
	}
	// CI phone names: n_ciphone NUL-terminated strings, padded to 4 bytes.
	names := make([]byte, min(int64(c.NCiphone)*64, st.Size()))
	n, _ := io.ReadFull(f, names)
	names = names[:n]
	off := 0
	for range c.NCiphone {
		i := bytes.IndexByte(names[off:], 0)
		if i < 0 {
			return errTruncated
		}
		off += i + 1
	}
	pos := 12 + descLen + 40 + int64((off+3)&^3)
	want := pos + 8*int64(c.NCdTree) + 12*int64(c.NPhone)
	if c.NEmitState > 0 {
		want += 2 * int64(c.NSseq) * int64(c.NEmitState)
	}
	if st.Size() < want {
		return fmt.Errorf("%w: %d bytes, its header needs at least %d", errTruncated, st.Size(), want)
	}
	return nil
}

// checkS3 checks a Sphinx-3 binary parameter file (means, variances,
// transition_matrices, mixture_weights): a text header ending in
// "endhdr\n", a byte-order word, dimensions, a value count, the float32
// values and an optional checksum. dims is the number of leading dimension
// words before the count; gaussian files add one vector length per stream.
func checkS3(path string, gaussian bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i := bytes.Index(data, []byte("endhdr\n"))
	if i < 0 || !bytes.HasPrefix(data, []byte("s3\n")) {
		return errTruncated
	}
	hdr := data[:i]
	p := data[i+len("endhdr\n"):]
	if len(p) < 4 {
		return errTruncated
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if bo.Uint32(p) != 0x11223344 {
		bo = binary.BigEndian
		if bo.Uint32(p) != 0x11223344 {
			return errTruncated
		}
	}
	p = p[4:]
	word := func() (int64, bool) {
		if len(p) < 4 {
			return 0, false
		}
		v := int64(int32(bo.Uint32(p)))
		p = p[4:]
		return v, v >= 0
	}
	// Both layouts start with three dimensions: (n_mgau, n_feat,
	// n_density) or (n_tmat, n_src, n_dst).
	var dims [3]int64
	for k := range dims {
		v, ok := word()
		if !ok {
			return errTruncated
		}
		dims[k] = v
	}
	if gaussian {
		for range dims[1] {
			if _, ok := word(); !ok {
				return errTruncated
			}
		}
	}
	count, ok := word()
	if !ok {
		return errTruncated
	}
	want := 4 * count
	if bytes.Contains(hdr, []byte("chksum0 yes")) {
		want += 4
	}
	if int64(len(p)) < want {
		return fmt.Errorf("%w: %d bytes of values, its header declares %d", errTruncated, len(p), want)
	}
	return nil
}

// checkText checks that a text model file (feature parameters,
// dictionaries) ends with a newline, as every file PocketSphinx ships does.
// A copy cut short almost always ends mid-line, and PocketSphinx would
// silently load the part it got (fewer words, default feature settings).
func checkText(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Size() == 0 {
		return errTruncated
	}
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, st.Size()-1); err != nil {
		return err
	}
	if b[0] != '\n' {
		return fmt.Errorf("%w: it ends mid-line", errTruncated)
	}
	return nil
}
