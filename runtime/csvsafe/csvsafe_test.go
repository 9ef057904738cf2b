package csvsafe

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"testing"
)

func TestCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{`=HYPERLINK("x")`, `'=HYPERLINK("x")`},
		{"+1", "'+1"},
		{"@SUM", "'@SUM"},
		{"-A1", "'-A1"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"-1e3+1", "'-1e3+1"},
		{"-Inf", "'-Inf"},
		{"-0x1p3", "'-0x1p3"},
		{"-", "'-"},
		{"-12.5", "-12.5"},
		{"-1.5e-07", "-1.5e-07"},
		{"-7", "-7"},
		{"/pricing", "/pricing"},
		{"a=b", "a=b"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Cell(tt.in); got != tt.want {
				t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	row := []string{"=1+1", "plain, with comma", "-3"}
	if err := w.Write(row); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if row[0] != "=1+1" {
		t.Errorf("Write changed its argument: %q", row)
	}
	got, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"'=1+1", "plain, with comma", "-3"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}
}
