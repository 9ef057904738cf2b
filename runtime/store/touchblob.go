package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// A touch blob packs one UTC hour of a site's touchpoint candidates for
// rollup_touches: each session's first event in the hour, and every
// conversion, in the order of received_at, then seq (the order is all a
// read needs of seq, so it is not stored). A 30-day read then
// takes 720 rows of a few tens of kilobytes instead of two million. It
// also holds the hour's identities: each visitor's first event in the
// hour that carries a user id, which a read stitches the visitor's
// touches to (identity.go).
//
// Layout: a version byte; the hour's dimension values (a count, then each
// as a length and bytes); the number of records; the records; the number
// of identities; the identities. Each record is:
//
//	flags          1 byte (the blob* bits below)
//	at             uvarint, microseconds after the previous record's (the
//	               first: after the hour's start)
//	who            uvarint user or visitor number, or length and bytes of a
//	               user or visitor id without one, or nothing, as the flags say
//	dimensions     three uvarints: channel, source and campaign, indexes
//	               into the values
//	value          8 bytes, IEEE 754, with blobConversion
//	session id     length and bytes, with blobShared
//
// blobShared marks a touch record whose session may have events in other
// hours (its rollup_sessions rows are shared): a read finds each such
// session's first candidate by its id. Other records need no id.
//
// Each identity is:
//
//	flags          1 byte: blobVisitorNumber or blobVisitorID, and
//	               blobUserNumber or blobUser
//	at             uvarint, microseconds after the hour's start
//	seq            uvarint
//	visitor        uvarint number, or length and bytes of an id
//	user           uvarint number, or length and bytes of an id
const touchBlobVersion = 2

// Record flags.
const (
	blobTouch         = 1 << iota // the session's first event in the hour
	blobConversion                // a conversion
	blobShared                    // the session id follows
	blobUser                      // who is a user id without a number (bytes)
	blobVisitorNumber             // who is a rollup visitor number
	blobVisitorID                 // who is a visitor id without a number (bytes)
	blobUserNumber                // who is a rollup user number
)

// blobRecord is one decoded record. Its strings alias the blob.
type blobRecord struct {
	at                        int64
	flags                     byte
	number                    int64
	who, session              []byte
	channel, source, campaign int
	value                     float64
}

// blobIdentity is one decoded identity. Its ids alias the blob.
type blobIdentity struct {
	at, seq                   int64
	flags                     byte
	visitorNumber, userNumber int64
	visitor, user             []byte
}

// touchBlobWriter builds one hour's blob.
type touchBlobWriter struct {
	hour, lastAt       int64
	values             map[string]int
	order              []string
	count, sharedCount int
	records            []byte
	identities         int
	identityBytes      []byte
}

func newTouchBlobWriter(hour int64) *touchBlobWriter {
	return &touchBlobWriter{hour: hour, lastAt: hour, values: map[string]int{}}
}

func (w *touchBlobWriter) value(v string) uint64 {
	i, ok := w.values[v]
	if !ok {
		i = len(w.order)
		w.values[v] = i
		w.order = append(w.order, v)
	}
	return uint64(i)
}

// add appends a raw row of the hour (in order) as a record; touch says
// whether it is its session's first event in the hour, shared whether the
// session id goes with it.
func (w *touchBlobWriter) add(r rawTouch, touch, shared bool) error {
	if r.at < w.lastAt {
		return fmt.Errorf("touch blob: record at %d before the previous one at %d", r.at, w.lastAt)
	}
	var flags byte
	if touch {
		flags |= blobTouch
	}
	if r.conv {
		flags |= blobConversion
	}
	if touch && shared && r.session != nil {
		flags |= blobShared
	}
	var who []byte
	var number int64
	switch {
	case r.userNumber != nil:
		flags, number = flags|blobUserNumber, *r.userNumber
	case r.user != nil:
		flags, who = flags|blobUser, []byte(*r.user)
	case r.number != nil:
		flags, number = flags|blobVisitorNumber, *r.number
	case r.visitor != nil:
		flags, who = flags|blobVisitorID, []byte(*r.visitor)
	}
	b := append(w.records, flags)
	b = binary.AppendUvarint(b, uint64(r.at-w.lastAt))
	w.lastAt = r.at
	switch {
	case flags&(blobVisitorNumber|blobUserNumber) != 0:
		b = binary.AppendUvarint(b, uint64(number))
	case who != nil:
		b = appendBytes(b, who)
	}
	b = binary.AppendUvarint(b, w.value(r.channel))
	b = binary.AppendUvarint(b, w.value(r.source))
	b = binary.AppendUvarint(b, w.value(r.campaign))
	if r.conv {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(r.value))
	}
	if flags&blobShared != 0 {
		b = appendBytes(b, []byte(*r.session))
		w.sharedCount++
	}
	w.records, w.count = b, w.count+1
	return nil
}

// addIdentity appends an identity row of the hour: a visitor's first
// event in the hour with a user id, the visitor and user by number or id.
func (w *touchBlobWriter) addIdentity(r rawTouch) error {
	if r.at < w.hour || r.at >= w.hour+int64(time.Hour/time.Microsecond) || r.seq < 0 {
		return fmt.Errorf("touch blob: identity at %d, seq %d, outside the hour at %d", r.at, r.seq, w.hour)
	}
	var flags byte
	switch {
	case r.number != nil:
		flags |= blobVisitorNumber
	case r.visitor != nil:
		flags |= blobVisitorID
	default:
		return errors.New("touch blob: an identity without a visitor")
	}
	switch {
	case r.userNumber != nil:
		flags |= blobUserNumber
	case r.user != nil:
		flags |= blobUser
	default:
		return errors.New("touch blob: an identity without a user")
	}
	b := append(w.identityBytes, flags)
	b = binary.AppendUvarint(b, uint64(r.at-w.hour))
	b = binary.AppendUvarint(b, uint64(r.seq))
	if r.number != nil {
		b = binary.AppendUvarint(b, uint64(*r.number))
	} else {
		b = appendBytes(b, []byte(*r.visitor))
	}
	if r.userNumber != nil {
		b = binary.AppendUvarint(b, uint64(*r.userNumber))
	} else {
		b = appendBytes(b, []byte(*r.user))
	}
	w.identityBytes, w.identities = b, w.identities+1
	return nil
}

// bytes is the finished blob.
func (w *touchBlobWriter) bytes() []byte {
	out := []byte{touchBlobVersion}
	out = binary.AppendUvarint(out, uint64(len(w.order)))
	for _, v := range w.order {
		out = appendBytes(out, []byte(v))
	}
	out = binary.AppendUvarint(out, uint64(w.count))
	out = append(out, w.records...)
	out = binary.AppendUvarint(out, uint64(w.identities))
	return append(out, w.identityBytes...)
}

func appendBytes(b, s []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// errTouchBlob is a blob that does not decode.
var errTouchBlob = errors.New("touch blob is corrupt")

// touchBlobReader decodes one hour's blob: its records (next), then its
// identities (nextIdentity).
type touchBlobReader struct {
	data   []byte
	values [][]byte
	hour   int64
	lastAt int64
	// records and identities are how many are left to read; identities
	// is -1 until the records are read.
	records, identities int64
}

func newTouchBlobReader(data []byte, hour int64) (*touchBlobReader, error) {
	if len(data) == 0 || data[0] != touchBlobVersion {
		return nil, fmt.Errorf("%w: unknown version", errTouchBlob)
	}
	r := &touchBlobReader{data: data[1:], hour: hour, lastAt: hour, identities: -1}
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.data)) {
		return nil, fmt.Errorf("%w: %d values", errTouchBlob, n)
	}
	r.values = make([][]byte, n)
	for i := range r.values {
		if r.values[i], err = r.bytes(); err != nil {
			return nil, err
		}
	}
	count, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if count > uint64(len(r.data)) {
		return nil, fmt.Errorf("%w: %d records", errTouchBlob, count)
	}
	r.records = int64(count)
	return r, nil
}

// next decodes the next record into rec; false after the last one.
func (r *touchBlobReader) next(rec *blobRecord) (bool, error) {
	if r.records == 0 {
		return false, nil
	}
	if len(r.data) == 0 {
		return false, fmt.Errorf("%w: %d records missing", errTouchBlob, r.records)
	}
	r.records--
	rec.flags = r.data[0]
	r.data = r.data[1:]
	dAt, err := r.uvarint()
	if err != nil {
		return false, err
	}
	r.lastAt += int64(dAt)
	rec.at = r.lastAt
	rec.who, rec.session, rec.number, rec.value = nil, nil, 0, 0
	switch {
	case rec.flags&(blobVisitorNumber|blobUserNumber) != 0:
		u, err := r.uvarint()
		if err != nil {
			return false, err
		}
		rec.number = int64(u)
	case rec.flags&(blobUser|blobVisitorID) != 0:
		if rec.who, err = r.bytes(); err != nil {
			return false, err
		}
	}
	if rec.channel, err = r.value(); err != nil {
		return false, err
	}
	if rec.source, err = r.value(); err != nil {
		return false, err
	}
	if rec.campaign, err = r.value(); err != nil {
		return false, err
	}
	if rec.flags&blobConversion != 0 {
		if len(r.data) < 8 {
			return false, fmt.Errorf("%w: value", errTouchBlob)
		}
		rec.value = math.Float64frombits(binary.LittleEndian.Uint64(r.data))
		r.data = r.data[8:]
	}
	if rec.flags&blobShared != 0 {
		if rec.session, err = r.bytes(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// nextIdentity decodes the next identity into id, once the records are
// read; false after the last one.
func (r *touchBlobReader) nextIdentity(id *blobIdentity) (bool, error) {
	if r.records > 0 {
		return false, fmt.Errorf("%w: identities read before the records", errTouchBlob)
	}
	if r.identities < 0 {
		n, err := r.uvarint()
		if err != nil {
			return false, err
		}
		if n > uint64(len(r.data)) {
			return false, fmt.Errorf("%w: %d identities", errTouchBlob, n)
		}
		r.identities = int64(n)
	}
	if r.identities == 0 {
		if len(r.data) > 0 {
			return false, fmt.Errorf("%w: %d bytes after the end", errTouchBlob, len(r.data))
		}
		return false, nil
	}
	if len(r.data) == 0 {
		return false, fmt.Errorf("%w: %d identities missing", errTouchBlob, r.identities)
	}
	r.identities--
	id.flags = r.data[0]
	r.data = r.data[1:]
	at, err := r.uvarint()
	if err != nil {
		return false, err
	}
	seq, err := r.uvarint()
	if err != nil {
		return false, err
	}
	id.at, id.seq = r.hour+int64(at), int64(seq)
	if id.visitorNumber, id.visitor, err = r.who(id.flags&blobVisitorNumber != 0); err != nil {
		return false, err
	}
	if id.userNumber, id.user, err = r.who(id.flags&blobUserNumber != 0); err != nil {
		return false, err
	}
	return true, nil
}

// who reads a number, or an id's bytes.
func (r *touchBlobReader) who(number bool) (int64, []byte, error) {
	if number {
		u, err := r.uvarint()
		return int64(u), nil, err
	}
	b, err := r.bytes()
	return 0, b, err
}

func (r *touchBlobReader) uvarint() (uint64, error) {
	// Most numbers here (value indexes, lengths) take one byte.
	if len(r.data) > 0 && r.data[0] < 0x80 {
		u := uint64(r.data[0])
		r.data = r.data[1:]
		return u, nil
	}
	u, n := binary.Uvarint(r.data)
	if n <= 0 {
		return 0, fmt.Errorf("%w: truncated", errTouchBlob)
	}
	r.data = r.data[n:]
	return u, nil
}

// value reads an index into the values.
func (r *touchBlobReader) value() (int, error) {
	u, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if u >= uint64(len(r.values)) {
		return 0, fmt.Errorf("%w: value %d of %d", errTouchBlob, u, len(r.values))
	}
	return int(u), nil
}

func (r *touchBlobReader) bytes() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(len(r.data)) {
		return nil, fmt.Errorf("%w: %d bytes past the end", errTouchBlob, n)
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b, nil
}
