package standalone

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/trackstack/trackstack/runtime/config"
)

// Environment variables that replace generated keys.
const (
	EnvIngestKey     = "TRACKSTACK_INGEST_KEY"
	EnvAdminPassword = "TRACKSTACK_ADMIN_PASSWORD"
)

// Layout of the data directory.
const (
	keysDirName       = "keys"          // keys/<site>/{ingestKey,signingKey,visitorSalt,ipSealingKey}
	adminPasswordFile = "adminPassword" // one admin password for every site's API and dashboard
	credentialsDir    = "credentials"   // credentials/<destination>/<Secret key>
	databaseFile      = "trackstack.db" // the SQLite database
)

// SiteKeys are one site's keys.
type SiteKeys struct {
	Ingest, Signing, VisitorSalt []byte
	// IPSealing is the text of the site's sealing key (32 random bytes,
	// base64url): it encrypts the raw IP kept for Meta and TikTok.
	IPSealing []byte
}

// Keys are the keys of every site and the admin password, as in effect
// (variables override the files).
type Keys struct {
	Sites         map[string]SiteKeys
	AdminPassword []byte
	// IngestFromEnv and AdminFromEnv say the values came from
	// EnvIngestKey and EnvAdminPassword.
	IngestFromEnv, AdminFromEnv bool
	// Generated lists the secrets created by this start, the only time
	// they are shown.
	Generated []Generated
}

// Generated is a secret created on this start.
type Generated struct {
	Label, Value, File string
}

// siteKeysDir is where a site's keys are kept.
func siteKeysDir(dataDir, site string) string {
	return filepath.Join(dataDir, keysDirName, site)
}

// loadKeys reads the keys kept in dataDir, creating (with crypto/rand) the
// ones missing, each in its own file with mode 0600. Keys given by the
// environment are used as they are and not written anywhere.
func loadKeys(dataDir string, sites []string, getenv func(string) string) (*Keys, error) {
	k := &Keys{Sites: make(map[string]SiteKeys, len(sites))}
	for _, name := range []string{EnvIngestKey, EnvAdminPassword} {
		if v := getenv(name); v != "" {
			if why := weakSecret(v); why != "" {
				return nil, fmt.Errorf("%w: %s is too weak (%s); use at least %d characters of which %d differ, e.g. from `openssl rand -base64 24`, or unset it to have one generated",
					ErrConfig, name, why, minSecretLen, minSecretDistinct)
			}
		}
	}
	envIngest := []byte(getenv(EnvIngestKey))
	k.IngestFromEnv = len(envIngest) > 0
	for _, site := range sites {
		dir := siteKeysDir(dataDir, site)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("while creating the keys directory of site %s: %w", site, err)
		}
		var sk SiteKeys
		var err error
		if k.IngestFromEnv {
			sk.Ingest = envIngest
		} else if sk.Ingest, err = k.keep(filepath.Join(dir, config.KeyIngest), "ingest key of site "+site); err != nil {
			return nil, err
		}
		if sk.Signing, err = k.keep(filepath.Join(dir, config.KeySigning), ""); err != nil {
			return nil, err
		}
		if sk.VisitorSalt, err = k.keep(filepath.Join(dir, config.KeyVisitorSalt), ""); err != nil {
			return nil, err
		}
		if sk.IPSealing, err = k.keep(filepath.Join(dir, config.KeyIPSealing), ""); err != nil {
			return nil, err
		}
		k.Sites[site] = sk
	}
	if p := getenv(EnvAdminPassword); p != "" {
		k.AdminPassword, k.AdminFromEnv = []byte(p), true
		return k, nil
	}
	var err error
	k.AdminPassword, err = k.keep(filepath.Join(dataDir, adminPasswordFile), "admin password")
	return k, err
}

// A secret a person chooses must not be guessable in the attempts the
// throttles allow. Generated secrets have 43 characters.
const (
	minSecretLen      = 12
	minSecretDistinct = 6
)

// weakSecret says why a chosen secret is too weak, or "" when it is not.
func weakSecret(v string) string {
	if n := utf8.RuneCountInString(v); n < minSecretLen {
		return fmt.Sprintf("%d characters", n)
	}
	distinct := map[rune]bool{}
	for _, r := range v {
		distinct[r] = true
	}
	if len(distinct) < minSecretDistinct {
		return fmt.Sprintf("only %d different characters", len(distinct))
	}
	return ""
}

// keep returns the key in file, creating it first when missing or empty.
// A label marks a key a person needs (shown once when generated); signing
// keys and salts are never shown.
func (k *Keys) keep(file, label string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return bytes.TrimSpace(b), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("while reading %s: %w", file, err)
	}
	v, err := randomToken()
	if err != nil {
		return nil, err
	}
	// WriteFile also replaces an empty file left by a crash mid-write.
	if err := os.WriteFile(file, []byte(v+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("while writing %s: %w", file, err)
	}
	if label != "" {
		k.Generated = append(k.Generated, Generated{Label: label, Value: v, File: file})
	}
	return []byte(v), nil
}

// randomToken returns 32 random bytes, base64url-encoded (as the operator
// generates the Secret <site>-keys).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("while generating a key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// writeCredentials writes each Destination's credentials Secret as files
// (credentials/<destination>/<key>, mode 0600), where the rendered
// configuration's credentialsDir points, as a pod would see its mounted
// Secret. The directory is rebuilt on each start: the files are the source.
func writeCredentials(dataDir string, res *Resources) error {
	root := filepath.Join(dataDir, credentialsDir)
	if err := os.RemoveAll(root); err != nil {
		return fmt.Errorf("while clearing %s: %w", root, err)
	}
	for _, d := range res.Destinations {
		dir := filepath.Join(root, d.Name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("while writing the credentials of Destination %s: %w", d.Name, err)
		}
		for key, v := range res.Secrets[d.Spec.CredentialsSecretRef.Name] {
			if err := os.WriteFile(filepath.Join(dir, key), v, 0o600); err != nil {
				return fmt.Errorf("while writing the credentials of Destination %s: %w", d.Name, err)
			}
		}
	}
	return nil
}
