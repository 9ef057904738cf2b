package forwarder

import (
	"fmt"
	"net/http"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/forward"
)

// NewPlatform returns the adapter for a destination's type.
func NewPlatform(d config.Destination, creds forward.Credentials, client *http.Client) (forward.Platform, error) {
	switch d.Type {
	}
	return nil, fmt.Errorf("destination %s: type %q is not supported by this runtime", d.Name, d.Type)
}

// matchesOnIP reports whether a destination type sends the visitor's raw IP
// (so the collector seals it, and the forwarders drop it once delivered).
func matchesOnIP(typ string) bool {
	return typ == v1alpha1.DestinationMeta || typ == v1alpha1.DestinationTikTok
}
