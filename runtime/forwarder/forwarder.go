package forwarder

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
	"github.com/trackstack/trackstack/runtime/sealing"
)

// Options build the engines of a site.
type Options struct {
	Config  *config.Runtime
	Store   forward.Store
	Logger  *slog.Logger
	Metrics *forward.Metrics
	// Client sends the platform requests; default NewHTTPClient().
	Client *http.Client
	// OpenIP opens the site's sealed raw IPs; nil reads the site's key from
	// its keysDir for destinations that match on the IP.
	OpenIP func([]byte) (string, error)
	// Tune adjusts every engine's options (tests shorten the waits).
	Tune func(*forward.Options)
}

// NewHTTPClient returns the client forwarders send with: a platform that
// does not answer within 30 s is a transient failure, retried later.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 25 * time.Second
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}

// Engine builds the engine of one destination.
func Engine(o Options, d *config.Destination) (*forward.Engine, error) {
	creds, err := forward.LoadCredentials(d.CredentialsDir, v1alpha1.CredentialKeys[d.Type])
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", d.Name, err)
	}
	client := o.Client
	if client == nil {
		client = NewHTTPClient()
	}
	p, err := NewPlatform(*d, creds, client)
	if err != nil {
		return nil, err
	}
	var defaults map[string]string
	if df, ok := p.(forward.Defaulter); ok {
		defaults = df.DefaultEvents()
	}
	m, err := forward.NewMapping(d.Events, defaults, d.ConsentRequires)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", d.Name, err)
	}
	openIP := o.OpenIP
	if openIP == nil && d.MatchesOnIP() {
		key, err := sealing.LoadKey(filepath.Join(o.Config.Site.KeysDir, config.KeyIPSealing))
		if err != nil {
			return nil, fmt.Errorf("destination %s sends the visitor's IP and needs the site's key %s: %w", d.Name, config.KeyIPSealing, err)
		}
		openIP = key.OpenString
	}
	eo := forward.Options{
		Site:        o.Config.Site.Name,
		Destination: d.Name,
		Platform:    p,
		Mapping:     m,
		Store:       o.Store,
		Logger:      o.Logger,
		Metrics:     o.Metrics,
		OpenIP:      openIP,
	}
	for _, other := range o.Config.Destinations {
		if other.MatchesOnIP() {
			eo.IPDestinations = append(eo.IPDestinations, other.Name)
		}
	}
	if o.Tune != nil {
		o.Tune(&eo)
	}
	return forward.New(eo)
}

// Start opens the destination's cursor: a new one starts at the
// Destination's creation time (now when unknown), or at since when set (a
// backfill, which also moves an existing cursor back).
func Start(ctx context.Context, st forward.Store, site string, d *config.Destination, since time.Time, now time.Time) (created bool, err error) {
	from, reset := d.CreatedAt, !since.IsZero()
	if reset {
		from = since
	} else if from.IsZero() {
		from = now
	}
	created, err = st.OpenCursor(ctx, site, d.Name, from, reset)
	if err != nil {
		return false, fmt.Errorf("while opening destination %s's cursor: %w", d.Name, err)
	}
	return created, nil
}
