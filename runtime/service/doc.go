/*
Package service holds what every runtime service (collect, forward,
dashboard, retention, and standalone, which runs them all) shares, so that no
service reaches into another:

  - OpenStore opens the store a runtime configuration names (PostgreSQL
    through the URI file the operator mounts, or a SQLite file), and Migrate
    applies its migrations, retrying while the database is unreachable.
  - Serve serves an http.Handler with the timeouts every server needs and a
    graceful shutdown: a client that sends headers slowly, or declares a body
    and never sends it, or never reads its answer, holds a connection for a
    bounded time, and SIGTERM ends with every request in flight answered.
  - NewRegistry is the Prometheus registry each service's metrics join.

The command line (flags, environment, signals, exit codes) stays in
runtime/cmd/trackstack; this package has no flags and no global state.
*/
package service
