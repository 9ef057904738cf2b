package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/trackstack/trackstack/runtime/config"
	"github.com/trackstack/trackstack/runtime/service"
	"github.com/trackstack/trackstack/runtime/standalone"
	"github.com/trackstack/trackstack/runtime/store"
)

// storeSource is where a one-off command (export, import, purge,
// retention) finds a site's
// store: the runtime configuration a pod mounts (--config, --root), or
// standalone's YAML files and data directory (-f, --data).
type storeSource struct {
	config, root string
	files        stringList
	data         string
}

// storeSourceFlags adds the flags of s.
func storeSourceFlags(f *flagSet, s *storeSource) {
	configFlag(f, &s.config)
	rootFlag(f, &s.root)
	f.fs.Var(&s.files, "f", "standalone: the YAML `files` or directories that standalone -f reads (repeat or separate with commas); the store is then the SQLite database in --data")
	f.stringVar(&s.data, "data", "TRACKSTACK_DATA", ".data", "standalone: the data directory (with -f)")
}

// storage returns the storage of site: the configuration's, whose site it
// must be, or with -f the data directory's database, the site being one of
// the files' TrackingSites. A mismatch or a bad file is a usage error.
func (s *storeSource) storage(site string) (config.Storage, error) {
	sites, err := s.sites()
	if err != nil {
		return config.Storage{}, err
	}
	var names []string
	for _, rt := range sites {
		if rt.Site.Name == site {
			return rt.Storage, nil
		}
		names = append(names, rt.Site.Name)
	}
	if len(s.files) == 0 {
		return config.Storage{}, fmt.Errorf("--site %q is not the site of %s (%q)", site, s.config, names[0])
	}
	return config.Storage{}, fmt.Errorf("--site %q is not a TrackingSite of the files (they have: %v)", site, names)
}

// sites returns the configuration's site, or with -f every site of the
// files as standalone runs it from --data.
func (s *storeSource) sites() ([]*config.Runtime, error) {
	if len(s.files) == 0 {
		rt, err := loadConfig(s.config, s.root)
		if err != nil {
			return nil, err
		}
		return []*config.Runtime{rt}, nil
	}
	return standalone.SiteConfigs(s.files, s.data)
}

// errNoDatabase means a command that only reads found no SQLite database
// where the flags point: opening it would create an empty one.
var errNoDatabase = errors.New("no database")

// openStorage opens the store st names. When existing is true, a SQLite database
// must exist already.
func openStorage(ctx context.Context, st config.Storage, existing bool) (store.Store, error) {
	if existing && st.Driver == config.DriverSQLite {
		if _, err := os.Stat(st.SQLitePath); err != nil {
			return nil, fmt.Errorf("%w at %s: %w", errNoDatabase, st.SQLitePath, err)
		}
	}
	return service.OpenStore(ctx, st)
}
