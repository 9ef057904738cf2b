// Package csvsafe writes CSV that a spreadsheet opens without running any
// of its cells: the reports of the dashboard and the event exports hold
// page paths, campaign names and properties that visitors chose.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// Cell returns cell as a spreadsheet shows it rather than evaluates it:
// text that starts like a formula (=, +, -, @, tab, carriage return) gets a
// leading ', as OWASP advises. A negative number stays as it is, since a
// number runs nothing; any other text after a - is a formula to Excel
// (-2+3+cmd|' /C calc'!A0 starts a program), so it is defused too.
func Cell(cell string) string {
	if cell == "" {
		return cell
	}
	switch cell[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + cell
	case '-':
		if !isDecimal(cell) {
			return "'" + cell
		}
	}
	return cell
}

// isDecimal reports whether s is a number in decimal notation, such as
// strconv.FormatFloat writes: ParseFloat alone would also take -Inf and
// hexadecimal, which a spreadsheet reads as names.
func isDecimal(s string) bool {
	if strings.Trim(s, "0123456789.eE+-") != "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// Writer is a csv.Writer that passes every cell through Cell.
type Writer struct {
	w   *csv.Writer
	row []string
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one row, defused; row itself is left as it was.
func (w *Writer) Write(row []string) error {
	w.row = w.row[:0]
	for _, cell := range row {
		w.row = append(w.row, Cell(cell))
	}
	return w.w.Write(w.row)
}

// Flush writes what is buffered and returns the first error of any Write
// or Flush.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
