/*
Package forwarder assembles forward engines from the runtime configuration:
for one destination (the `trackstack forward` command, one per pod) or for
every destination of a site (standalone), each with its platform adapter
(Platforms), its credentials read from the mounted Secret files, its event
mapping, and the site's key for the sealed raw IPs. It also serves the
forwarder's /healthz, /readyz and /metrics.

A paused destination builds no engine: its cursor stays where it is, and
the engine built when it is resumed sends the backlog from there.
*/
package forwarder
