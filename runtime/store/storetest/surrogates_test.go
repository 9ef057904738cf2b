package storetest

import (
	"reflect"
	"testing"
)

func TestLoneSurrogateEscapes(t *testing.T) {
	tests := []struct {
		json string
		want []string
	}{
		{`"plain \u00e9 \u0000"`, nil},
		{`"\ud83c\udf89"`, nil},
		{`"\uD83C\uDF89"`, nil},
		{`"\ud800"`, []string{`\ud800`}},
		{`"\uDBFFx"`, []string{`\uDBFF`}},
		{`"\udc00"`, []string{`\udc00`}},
		{`"\uDFFF"`, []string{`\uDFFF`}},
		{`"\udc00\ud800"`, []string{`\udc00`, `\ud800`}},
		{`"\ud800\ud800\udc00"`, []string{`\ud800`}},
		{`"\\udc00"`, nil},
		{`"\\\udc00"`, []string{`\udc00`}},
		{`{"\ud800":1}`, []string{`\ud800`}},
		{`"\ud8"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			if got := LoneSurrogateEscapes([]byte(tt.json)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoneSurrogateEscapes(%s) = %q, want %q", tt.json, got, tt.want)
			}
		})
	}
}
