package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int64
		wantErr string
	}{
		{
			name: "sorted by version, not by name",
			files: fstest.MapFS{
				"m/10_later.sql":   {Data: []byte("SELECT 10")},
				"m/2_second.sql":   {Data: []byte("SELECT 2")},
				"m/0001_first.sql": {Data: []byte("SELECT 1")},
			},
			want: []int64{1, 2, 10},
		},
		{
			name:    "misnamed file",
			files:   fstest.MapFS{"m/0001_first.sql": {}, "m/notes.txt": {}},
			wantErr: "notes.txt",
		},
		{
			name:    "duplicate version",
			files:   fstest.MapFS{"m/0001_a.sql": {}, "m/1_b.sql": {}},
			wantErr: "share version 1",
		},
		{
			name:    "zero version",
			files:   fstest.MapFS{"m/0000_a.sql": {}},
			wantErr: "positive",
		},
		{
			name:    "empty",
			files:   fstest.MapFS{"m/sub/0001_a.sql": {}},
			wantErr: "no migrations",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := Load(tt.files, "m")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, m := range ms {
				got = append(got, m.Version)
				if !strings.HasSuffix(m.SQL, strings.TrimLeft(strings.SplitN(m.Name, "_", 2)[0], "0")) {
					t.Errorf("migration %s has SQL %q of another file", m.Name, m.SQL)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("versions = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("versions = %v, want %v", got, tt.want)
				}
			}
		})
	}
}
