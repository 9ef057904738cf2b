package forward

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Credentials are a destination's secrets by Secret key (accessToken,
// clientSecret, ...). They are never logged: adapters put them only in
// request headers or bodies.
type Credentials map[string]string

// LoadCredentials reads each key from its file in dir, as Kubernetes mounts
// a Secret. A missing or empty key is an error that names the key and the
// file, never a value.
func LoadCredentials(dir string, keys []string) (Credentials, error) {
	c := make(Credentials, len(keys))
	for _, k := range keys {
		path := filepath.Join(dir, k)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("while reading credential %q: %w", k, err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return nil, fmt.Errorf("credential %q (%s) is empty", k, path)
		}
		c[k] = v
	}
	return c, nil
}

// Require returns an error naming the first of keys that c lacks.
func (c Credentials) Require(keys ...string) error {
	for _, k := range keys {
		if c[k] == "" {
			return fmt.Errorf("credential %q is missing", k)
		}
	}
	return nil
}

// Endpoint returns the URL of path on the platform's base URL def, or on
// override when set: override replaces the scheme and host, and its own
// path (if any) goes before the platform's, so a test or an egress proxy
// receives every call with the platform's path intact.
func Endpoint(def, override, path string) (string, error) {
	base := def
	if override != "" {
		base = override
	}
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an absolute http(s) URL", base)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("endpoint %q is not an http(s) URL", base)
	}
	return u.String() + path, nil
}
