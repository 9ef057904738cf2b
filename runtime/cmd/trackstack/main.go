// Command trackstack is the trackstack runtime: one binary whose subcommands
// are the processes the operator runs (collect, dashboard, forward, migrate, retention, purge),
// the standalone stack that runs them all in one process without a cluster, and the
// export and import of a site's events. Run `trackstack help` for the list.
//
// Exit codes: 0 success (also after a graceful shutdown on SIGTERM/SIGINT),
// 1 a failure while running (store unreachable, port taken, ...), 2 a usage
// or configuration error (unknown subcommand or flag, bad config file) that
// a restart will not fix.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a subcommand gets from the process: its output streams and
// environment, injected so tests run commands in process.
type env struct {
	stdin          io.Reader // nil when the command has none
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand.
type command struct {
	summary string
	// run executes the subcommand with its arguments (after its name) and
	// returns the exit code. ctx ends on SIGTERM or SIGINT.
	run func(ctx context.Context, e *env, args []string) int
}

// commands are the subcommands.
func commands() map[string]command {
	return map[string]command{
		"collect":    {"run the collector (browser and server events into the store)", runCollect},
		"dashboard":  {"run the dashboard of one site (sign-in, report pages, JSON and CSV API)", runDashboard},
		"export":     {"write a site's events (or one person's) as NDJSON or CSV, for backups and access requests", runExport},
		"forward":    {"run the forwarder of one Destination (events to an ad platform or alert channel)", runForward},
		"import":     {"restore an NDJSON export into a site's store, skipping events already stored", runImport},
		"migrate":    {"apply the store's schema migrations and exit", runMigrate},
		"retention":  {"apply one RetentionPolicy once: delete, anonymize, carry out erasures", runRetention},
		"purge":      {"delete every row a site has in the store (closing a site) and exit", runPurge},
		"standalone": {"run the whole stack in one process on SQLite, from YAML files", runStandalone},
		"version":    {"print the version", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, e *env) int {
	cmds := commands()
	if len(args) == 0 {
		usage(e.stderr, cmds)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := cmds[args[1]]; ok {
				return c.run(ctx, e, []string{"--help"})
			}
			fmt.Fprintf(e.stderr, "trackstack: unknown subcommand %q\n\n", args[1])
			usage(e.stderr, cmds)
			return exitUsage
		}
		usage(e.stdout, cmds)
		return exitOK
	case "-version", "--version":
		name = "version"
	}
	c, ok := cmds[name]
	if !ok {
		fmt.Fprintf(e.stderr, "trackstack: unknown subcommand %q\n\n", name)
		usage(e.stderr, cmds)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("trackstack is the trackstack runtime: first-party tracking and ad attribution.\n\n")
	b.WriteString("Usage:\n  trackstack <subcommand> [flags]\n\nSubcommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-11s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun `trackstack <subcommand> --help` for its flags. Flags also read TRACKSTACK_* variables\n")
	b.WriteString("(named in each help); a flag given on the command line wins.\n")
	b.WriteString("\nExit codes: 0 success or graceful shutdown, 1 failure while running, 2 usage or configuration error.\n")
	io.WriteString(w, b.String()) //nolint:errcheck // nothing to do about a closed terminal
}
