// Package jsonscan reads JSON of one known shape without reflection, for
// the strict platform fakes, whose decoding was most of their cost. A
// Reader gives up (false) on anything unexpected: an escape, a non-ASCII
// byte, malformed JSON. Its callers then hand the body to their general
// strict decoder, which alone decides what is accepted; each fake proves
// its fast path equal to that decoder in tests and fuzz targets.
package jsonscan

// Reader reads Data from Pos.
type Reader struct {
	Data []byte
	Pos  int
}

// Once marks bit in seen and reports whether it was clear: a caller gives
// up on a duplicate key.
func Once[T ~uint8 | ~uint16 | ~uint32](seen *T, bit T) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

// SkipSpace skips JSON white space.
func (r *Reader) SkipSpace() {
	for r.Pos < len(r.Data) {
		switch r.Data[r.Pos] {
		case ' ', '\t', '\n', '\r':
			r.Pos++
		default:
			return
		}
	}
}

// Take consumes c after white space.
func (r *Reader) Take(c byte) bool {
	r.SkipSpace()
	if r.Pos < len(r.Data) && r.Data[r.Pos] == c {
		r.Pos++
		return true
	}
	return false
}

// End reports whether only white space is left.
func (r *Reader) End() bool {
	r.SkipSpace()
	return r.Pos == len(r.Data)
}

// Object reads a non-empty object, handing each key to field, which reads
// the value.
func (r *Reader) Object(field func(key []byte) bool) bool {
	if !r.Take('{') {
		return false
	}
	for {
		key, ok := r.PlainString()
		if !ok || !r.Take(':') || !field(key) {
			return false
		}
		if r.Take('}') {
			return true
		}
		if !r.Take(',') {
			return false
		}
	}
}

// Array reads a non-empty array, element reading each value.
func (r *Reader) Array(element func() bool) bool {
	if !r.Take('[') {
		return false
	}
	for {
		if !element() {
			return false
		}
		if r.Take(']') {
			return true
		}
		if !r.Take(',') {
			return false
		}
	}
}

// PlainString reads a string of printable ASCII without escapes, which
// reads the same in every decoder.
func (r *Reader) PlainString() ([]byte, bool) {
	if !r.Take('"') {
		return nil, false
	}
	start := r.Pos
	for ; r.Pos < len(r.Data); r.Pos++ {
		switch c := r.Data[r.Pos]; {
		case c == '"':
			r.Pos++
			return r.Data[start : r.Pos-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

// Boolean reads true or false.
func (r *Reader) Boolean(to *bool) bool {
	r.SkipSpace()
	rest := r.Data[r.Pos:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		*to = true
		r.Pos += 4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		*to = false
		r.Pos += 5
	default:
		return false
	}
	return r.Delimited()
}

// Integer reads the literal of a JSON integer: -?(0|[1-9][0-9]*).
func (r *Reader) Integer() ([]byte, bool) {
	r.SkipSpace()
	start := r.Pos
	if !r.integerPart() {
		return nil, false
	}
	return r.Data[start:r.Pos], r.Delimited()
}

// Number reads the literal of a JSON number:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *Reader) Number() ([]byte, bool) {
	r.SkipSpace()
	start := r.Pos
	if !r.integerPart() {
		return nil, false
	}
	if r.skip('.') && r.digits() == 0 {
		return nil, false
	}
	if r.skip('e') || r.skip('E') {
		if !r.skip('+') {
			r.skip('-')
		}
		if r.digits() == 0 {
			return nil, false
		}
	}
	return r.Data[start:r.Pos], r.Delimited()
}

// integerPart reads -?(0|[1-9][0-9]*), the start of every JSON number. A
// digit after a leading 0 is left for Delimited to refuse.
func (r *Reader) integerPart() bool {
	r.skip('-')
	return r.skip('0') || r.digits() > 0
}

func (r *Reader) skip(c byte) bool {
	if r.Pos < len(r.Data) && r.Data[r.Pos] == c {
		r.Pos++
		return true
	}
	return false
}

func (r *Reader) digits() int {
	start := r.Pos
	for r.Pos < len(r.Data) && '0' <= r.Data[r.Pos] && r.Data[r.Pos] <= '9' {
		r.Pos++
	}
	return r.Pos - start
}

// Delimited reports whether a literal ends here, as JSON requires.
func (r *Reader) Delimited() bool {
	if r.Pos == len(r.Data) {
		return true
	}
	switch r.Data[r.Pos] {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}
