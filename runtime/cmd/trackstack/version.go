package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version and VCS revision from the build info are used.
var version = ""

func runVersion(_ context.Context, e *env, args []string) int {
	f := newFlagSet(e, "version", "trackstack version", "Prints the version of this binary, its VCS revision and Go version.")
	if code, ok := f.parse(args); !ok {
		return code
	}
	fmt.Fprintf(e.stdout, "trackstack %s\n", versionString())
	return exitOK
}

// versionString is "<version> (<revision>[, modified], <go version>)".
func versionString() string {
	v, rev, dirty := version, "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		rev = "unknown revision"
	}
	if dirty {
		rev += ", modified"
	}
	return fmt.Sprintf("%s (%s, %s)", v, rev, runtime.Version())
}
