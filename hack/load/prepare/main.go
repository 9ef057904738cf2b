// Command prepare writes what `trackstack collect` reads for a load run of
// hack/load/run.sh, and finds it free ports.
//
//	prepare -dir DIR -dsn URI   writes DIR/config.yaml, DIR/dsn and DIR/keys/*
//	prepare -free-ports N       prints N free loopback TCP ports, one a line
//
// The configuration is rendered from a TrackingSite by config.Render, as the
// operator renders a site's ConfigMap, with every rate limit of
// spec.collector.limits set to 0 (unlimited): a load run measures the
// collector and the store, not the limits that protect them.
package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
)

// SiteName is the site the load posts to; run.sh counts its stored events.
const SiteName = "load"

func main() {
	dir := flag.String("dir", "", "directory to write config.yaml, dsn and keys/ into")
	dsn := flag.String("dsn", "", "PostgreSQL URI the collector stores events in")
	ports := flag.Int("free-ports", 0, "print this many free loopback TCP ports and exit")
	flag.Parse()

	var err error
	switch {
	case *ports > 0:
		err = printFreePorts(os.Stdout, *ports)
	case *dir != "" && *dsn != "":
		err = writeSite(*dir, *dsn)
	default:
		err = errors.New("give -dir and -dsn, or -free-ports N")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "prepare:", err)
		os.Exit(2)
	}
}

// unlimitedSite is the TrackingSite of a load run: every collector limit 0.
func unlimitedSite() *v1alpha1.TrackingSite {
	zero := func() *int32 { v := int32(0); return &v }
	return &v1alpha1.TrackingSite{
		ObjectMeta: metav1.ObjectMeta{Name: SiteName},
		Spec: v1alpha1.TrackingSiteSpec{
			Domains: []string{"load.example"},
			Collector: v1alpha1.CollectorSpec{
				Limits: &v1alpha1.CollectorLimits{
					ServerEventsPerSecond: zero(), ServerBurst: zero(),
					BrowserEventsPerSecond: zero(), BrowserBurst: zero(),
					IPRequestsPerSecond: zero(), IPBurst: zero(),
					BotEventsPerSecond: zero(),
				},
			},
		},
	}
}

// writeSite writes the rendered configuration, the DSN file it names and
// freshly generated keys, all readable by the owner only.
func writeSite(dir, dsn string) error {
	keysDir := filepath.Join(dir, "keys")
	if err := os.MkdirAll(keysDir, 0o700); err != nil {
		return fmt.Errorf("while creating %s: %w", keysDir, err)
	}
	dsnFile := filepath.Join(dir, "dsn")
	rt := config.Render(unlimitedSite(), nil, nil, config.RenderOptions{
		Storage: &config.Storage{Driver: config.DriverPostgres, DSNFile: dsnFile},
		KeysDir: keysDir,
	})
	yaml, err := rt.Marshal()
	if err != nil {
		return fmt.Errorf("while rendering the runtime config: %w", err)
	}
	files := map[string][]byte{
		filepath.Join(dir, config.FileName): yaml,
		dsnFile:                             []byte(dsn),
	}
	for _, k := range []string{config.KeyIngest, config.KeySigning, config.KeyVisitorSalt} {
		key, err := randomKey()
		if err != nil {
			return err
		}
		files[filepath.Join(keysDir, k)] = []byte(key)
	}
	for name, b := range files {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			return fmt.Errorf("while writing %s: %w", name, err)
		}
	}
	return nil
}

// randomKey is a key as the operator generates one: 32 random bytes, base64url.
func randomKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("while generating a key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// printFreePorts holds all n listeners open at once, so the ports differ,
// then releases them for the servers to bind. Another process may take one
// in between; run.sh then fails to start and says which server.
func printFreePorts(w io.Writer, n int) error {
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("while finding a free port: %w", err)
		}
		listeners = append(listeners, l)
	}
	for _, l := range listeners {
		if _, err := fmt.Fprintln(w, l.Addr().(*net.TCPAddr).Port); err != nil {
			return err
		}
	}
	return nil
}
