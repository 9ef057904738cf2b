package main

import (
	"io"
	"log/slog"
)

// newLogger returns the runtime's logger: JSON lines on w with stable keys
// (cmd, site, addr, err, ...). Nothing logged carries a secret: keys and
// the database URI are only ever named by their file.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
