package sealing

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t testing.TB) *Key {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey([]byte(base64.RawURLEncoding.EncodeToString(b)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := testKey(t)
	for _, pt := range []string{"203.0.113.77", "2001:db8:1234:5678::9", ""} {
		t.Run(pt, func(t *testing.T) {
			sealed := k.Seal([]byte(pt))
			if len(sealed) != Overhead+len(pt) {
				t.Fatalf("sealed length %d, want %d", len(sealed), Overhead+len(pt))
			}
			if pt != "" && bytes.Contains(sealed, []byte(pt)) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := k.Open(sealed)
			if err != nil || string(got) != pt {
				t.Fatalf("Open() = %q, %v; want %q", got, err, pt)
			}
		})
	}
}

func TestOpenString(t *testing.T) {
	k := testKey(t)
	if got, err := k.OpenString(k.Seal([]byte("198.51.100.4"))); err != nil || got != "198.51.100.4" {
		t.Fatalf("OpenString() = %q, %v", got, err)
	}
	if got, err := k.OpenString([]byte("short")); !errors.Is(err, ErrOpen) || got != "" {
		t.Fatalf("OpenString(short) = %q, %v; want ErrOpen", got, err)
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k := testKey(t)
	a, b := k.Seal([]byte("198.51.100.4")), k.Seal([]byte("198.51.100.4"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: the nonce repeats")
	}
}

func TestOpenRejects(t *testing.T) {
	k := testKey(t)
	sealed := k.Seal([]byte("203.0.113.77"))
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 1
		return c
	}
	tests := []struct {
		name string
		key  *Key
		in   []byte
	}{
		{"wrong key", testKey(t), sealed},
		{"altered version", k, flip(0)},
		{"altered nonce", k, flip(1)},
		{"altered ciphertext", k, flip(Overhead - 16 + 1)},
		{"altered tag", k, flip(len(sealed) - 1)},
		{"truncated", k, sealed[:len(sealed)-1]},
		{"short", k, sealed[:Overhead-1]},
		{"empty", k, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.Open(tt.in)
			if !errors.Is(err, ErrOpen) || got != nil {
				t.Fatalf("Open() = %q, %v; want ErrOpen", got, err)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, KeySize)
	tests := []struct {
		name    string
		text    string
		wantErr string
	}{
		{"hex", hex.EncodeToString(raw), ""},
		{"upper hex with newline", strings.ToUpper(hex.EncodeToString(raw)) + "\n", ""},
		{"base64", base64.StdEncoding.EncodeToString(raw), ""},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), "key is 16 bytes, want 32"},
		{"hex of 31 bytes", hex.EncodeToString(raw[:31]), "key is"},
		{"not encoded", "correct horse battery staple!", "neither hex nor base64"},
		{"empty", "", "key is 0 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKey([]byte(tt.text))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseKey() error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || k != nil {
				t.Fatalf("ParseKey() = %v, %v; want error containing %q", k, err, tt.wantErr)
			}
		})
	}
}

// TestKeyEncodingsAgree checks that the hex and base64 forms of one key are
// the same key: a value sealed with one opens with the other.
func TestKeyEncodingsAgree(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KeySize)
	a, _ := ParseKey([]byte(hex.EncodeToString(raw)))
	b, _ := ParseKey([]byte(base64.StdEncoding.EncodeToString(raw)))
	if got, err := b.Open(a.Seal([]byte("x"))); err != nil || string(got) != "x" {
		t.Fatalf("Open() = %q, %v", got, err)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte(hex.EncodeToString(make([]byte, KeySize))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKey(good); err != nil {
		t.Fatalf("LoadKey(good) error %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("c2hvcnQ="), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKey(bad)
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), "c2hvcnQ") {
		t.Fatalf("LoadKey(bad) error %v: want the path named and the contents not", err)
	}
	if _, err := LoadKey(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("LoadKey(missing) error %v, want ErrNotExist", err)
	}
}

func FuzzOpen(f *testing.F) {
	k, err := ParseKey([]byte(strings.Repeat("42", KeySize)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(k.Seal([]byte("203.0.113.77")))
	f.Add([]byte{version})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		pt, err := k.Open(in)
		if err != nil {
			if pt != nil {
				t.Fatal("Open returned data with an error")
			}
			return
		}
		// Only a value this key sealed opens; sealing what came out must
		// open to the same bytes again.
		if again, err := k.Open(k.Seal(pt)); err != nil || !bytes.Equal(again, pt) {
			t.Fatalf("reseal round trip: %q, %v", again, err)
		}
	})
}
