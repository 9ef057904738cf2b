package sealing

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	// KeySize is the size of a key in bytes (AES-256).
	KeySize = 32
	// version is the first byte of every value sealed with this package's
	// single key generation; a rotated key would use the next one.
	version   byte = 1
	nonceSize      = 12
	// Overhead is how many bytes Seal adds to the plaintext: the version,
	// the nonce and the GCM tag.
	Overhead = 1 + nonceSize + 16
)

// ErrOpen is returned (wrapped) by Open for any value it cannot
// authenticate: short, another version, another key, or altered.
var ErrOpen = errors.New("sealing: cannot open sealed value")

// Key seals and opens values with AES-256-GCM. The zero Key is unusable;
// build one with ParseKey or LoadKey. A Key is safe for concurrent use.
type Key struct {
	aead cipher.AEAD
}

// ParseKey reads a key from text: 32 bytes as hex or base64, surrounding
// white space ignored.
func ParseKey(text []byte) (*Key, error) {
	raw, err := decodeKey(strings.TrimSpace(string(text)))
	if err != nil {
		return nil, err
	}
	return newKey(raw)
}

// LoadKey reads a key file (see ParseKey). The error names the file but
// never its contents.
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading sealing key: %w", err)
	}
	k, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("sealing key %s: %w", path, err)
	}
	return k, nil
}

// decodeKey accepts hex (64 digits) or any base64 form of 32 bytes.
func decodeKey(s string) ([]byte, error) {
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("key is %d bytes, want %d (32 random bytes as base64 or hex)", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("key is neither hex nor base64 (want %d random bytes as base64 or hex)", KeySize)
}

func newKey(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("key is %d bytes, want %d", len(raw), KeySize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	return &Key{aead: aead}, nil
}

// Seal encrypts plaintext under a fresh random nonce: version || nonce ||
// ciphertext with tag.
func (k *Key) Seal(plaintext []byte) []byte {
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = version
	// crypto/rand.Read never fails (it crashes the program rather than
	// return predictable bytes), so a nonce is never reused by accident.
	_, _ = rand.Read(out[1:])
	return k.aead.Seal(out, out[1:], plaintext, out[:1])
}

// Open authenticates and decrypts a value Seal produced with this key.
func (k *Key) Open(sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte minimum", ErrOpen, len(sealed), Overhead)
	}
	if sealed[0] != version {
		return nil, fmt.Errorf("%w: key version %d, this key is version %d", ErrOpen, sealed[0], version)
	}
	pt, err := k.aead.Open(nil, sealed[1:1+nonceSize], sealed[1+nonceSize:], sealed[:1])
	if err != nil {
		return nil, fmt.Errorf("%w: wrong key or altered data", ErrOpen)
	}
	return pt, nil
}

// OpenString is Open for a sealed text, such as an IP address: the method
// value key.OpenString fits a forwarder's func([]byte) (string, error).
func (k *Key) OpenString(sealed []byte) (string, error) {
	b, err := k.Open(sealed)
	return string(b), err
}
