package envelope

import "io"

// ReadFrom encrypts everything r holds, reading straight into the chunk
// buffer (io.Copy uses it).
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	var n int64
	for w.err == nil {
		m, err := r.Read(w.buf[len(w.buf) : w.chunk+1])
		w.buf, n = w.buf[:len(w.buf)+m], n+int64(m)
		w.flushFull()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
	}
	return n, w.err
}

// WriteTo writes the decrypted stream to w chunk by chunk, each opened in
// place (io.Copy uses it). An error, w's included, is final for the Reader.
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for {
		if len(r.pt) > 0 {
			m, err := w.Write(r.pt)
			n += int64(m)
			r.pt = r.pt[m:]
			if err != nil {
				r.err = err
				return n, err
			}
		}
		if r.err != nil || r.done {
			return n, r.err
		}
		r.pt, r.err = r.next(nil)
	}
}
