package store

import (
	"database/sql/driver"
	"encoding/binary"
	"fmt"
	"math"
)

// textArray is a text[] parameter sent in PostgreSQL's binary array
// format: each string goes as its bytes, behind its length. lib/pq's
// pq.Array sends an array as its text literal, which quotes and escapes
// every element and which the server then scans character by character
// (array_in) before it copies each element out again. The binary format
// spares both ends that work, which grows with the text: an item's full
// text alone is 6 KB on average in the benchmark's mail
// (BenchmarkTextArray compares the two).
//
// The store sends []byte parameters in binary (binary_parameters=yes,
// which parseURL requires); a textArray is only ever a parameter whose
// type the statement gives as text[] (a cast such as $3::text[]), as the
// server reads the element type in the data and refuses any other.
type textArray []string

// textOID is the type oid of text, as the binary array format names its
// element type.
const textOID = 25

// Value encodes the array: a header (dimensions, a flag for nulls, the
// element type), the length and lower bound of its one dimension, then
// each element's length and bytes. An empty array has no dimension.
func (a textArray) Value() (driver.Value, error) {
	size := 12 + 8 // header, and the dimension if there is one
	for _, s := range a {
		if len(s) > math.MaxInt32 {
			return nil, fmt.Errorf("text array: an element of %d bytes", len(s))
		}
		size += 4 + len(s)
	}
	dims := uint32(min(len(a), 1))
	b := make([]byte, 0, size)
	b = binary.BigEndian.AppendUint32(b, dims)
	b = binary.BigEndian.AppendUint32(b, 0) // no nulls
	b = binary.BigEndian.AppendUint32(b, textOID)
	if dims == 0 {
		return b, nil
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(a)))
	b = binary.BigEndian.AppendUint32(b, 1) // lower bound
	for _, s := range a {
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b, nil
}
