package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum recommendation (19 MiB, 2 passes,
// one lane). A comparison costs tens of milliseconds on one core; the
// throttle bounds how many a client can ask for.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// passwordHash is an argon2id hash of the admin password: all the process
// keeps of it.
type passwordHash struct {
	salt []byte
	sum  []byte
}

// hashPassword hashes password with a fresh salt.
func hashPassword(password []byte) (*passwordHash, error) {
	if len(password) == 0 {
		return nil, errors.New("the admin password is empty")
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("while salting the admin password: %w", err)
	}
	return &passwordHash{salt: salt, sum: argon2.IDKey(password, salt, argonTime, argonMemory, argonThreads, argonKeyLen)}, nil
}

// matches reports, in constant time, whether password is the one hashed.
func (h *passwordHash) matches(password string) bool {
	if h == nil {
		return false
	}
	got := argon2.IDKey([]byte(password), h.salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return subtle.ConstantTimeCompare(got, h.sum) == 1
}

// readPasswordHash reads the password file at path and returns its hash,
// overwriting the bytes read. A trailing newline (a file written by hand)
// is not part of the password.
func readPasswordHash(path string) (*passwordHash, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("while reading the admin password: %w", err)
	}
	defer clear(data)
	h, err := hashPassword(bytes.TrimRight(data, "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}
