package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// flagSet is a subcommand's flags: the standard library's, with defaults
// read from TRACKSTACK_* variables and a help text that names them.
type flagSet struct {
	fs       *flag.FlagSet
	e        *env
	synopsis string // e.g. "trackstack collect [flags]"
	about    string // what the subcommand does, shown above the flags
	// envErrs are variables that did not parse; reported by parse, so a
	// typo in a Deployment fails loudly instead of falling back.
	envErrs []error
}

func newFlagSet(e *env, name, synopsis, about string) *flagSet {
	fs := flag.NewFlagSet("trackstack "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse prints errors and help itself
	return &flagSet{fs: fs, e: e, synopsis: synopsis, about: about}
}

func withEnv(usage, envName string) string {
	if envName == "" {
		return usage
	}
	return usage + " (env " + envName + ")"
}

func (f *flagSet) stringVar(p *string, name, envName, def, usage string) {
	if v := f.getenv(envName); v != "" {
		def = v
	}
	f.fs.StringVar(p, name, def, withEnv(usage, envName))
}

func (f *flagSet) boolVar(p *bool, name, envName string, def bool, usage string) {
	if v := f.getenv(envName); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.envErrs = append(f.envErrs, fmt.Errorf("%s=%q is not a boolean", envName, v))
		} else {
			def = b
		}
	}
	f.fs.BoolVar(p, name, def, withEnv(usage, envName))
}

func (f *flagSet) durationVar(p *time.Duration, name, envName string, def time.Duration, usage string) {
	if v := f.getenv(envName); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.envErrs = append(f.envErrs, fmt.Errorf("%s=%q is not a duration such as 30s", envName, v))
		} else {
			def = d
		}
	}
	f.fs.DurationVar(p, name, def, withEnv(usage, envName))
}

// logLevelVar adds --log-level.
func (f *flagSet) logLevelVar(p *slog.Level) {
	def := slog.LevelInfo
	if v := f.getenv("TRACKSTACK_LOG_LEVEL"); v != "" {
		if err := def.UnmarshalText([]byte(v)); err != nil {
			f.envErrs = append(f.envErrs, fmt.Errorf("TRACKSTACK_LOG_LEVEL=%q is not debug, info, warn or error", v))
		}
	}
	*p = def
	f.fs.TextVar(p, "log-level", def, withEnv("log `level`: debug, info, warn or error", "TRACKSTACK_LOG_LEVEL"))
}

func (f *flagSet) getenv(name string) string {
	if name == "" {
		return ""
	}
	return strings.TrimSpace(f.e.getenv(name))
}

// parse parses args. When it returns ok false, the command is over with
// exit code code: help was asked for (printed on stdout, exit 0) or the
// arguments are wrong (the error and a hint on stderr, exit 2).
func (f *flagSet) parse(args []string) (code int, ok bool) {
	err := f.fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.printHelp(f.e.stdout)
		return exitOK, false
	case err != nil:
		return f.usageError(err.Error())
	case f.fs.NArg() > 0:
		return f.usageError(fmt.Sprintf("unexpected argument %q", f.fs.Arg(0)))
	case len(f.envErrs) > 0:
		return f.usageError(errors.Join(f.envErrs...).Error())
	}
	return exitOK, true
}

// usageError reports a usage or configuration error: exit code 2.
func (f *flagSet) usageError(msg string) (int, bool) {
	fmt.Fprintf(f.e.stderr, "%s: %s\nRun `%s --help` for usage.\n", f.fs.Name(), msg, f.fs.Name())
	return exitUsage, false
}

func (f *flagSet) printHelp(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\n%s\n\nFlags:\n", f.synopsis, strings.TrimSpace(f.about))
	f.fs.SetOutput(&b)
	f.fs.PrintDefaults()
	f.fs.SetOutput(io.Discard)
	io.WriteString(w, b.String()) //nolint:errcheck // nothing to do about a closed terminal
}

// stringList is a repeatable flag that also splits on commas (-f a -f b,c).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
