package pgtest

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// StopImmediate stops the server as an outage would: `pg_ctl stop -m
// immediate` ends every server process at once, without a checkpoint, so
// clients see their connections drop and new ones refused, and the next
// start runs crash recovery from the WAL. The data directory and the port
// are kept for StartAgain. A test that stops the shared server stops it for
// every test of its package: outage tests use a Server of their own.
func (s *Server) StopImmediate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.cmd == nil {
		return errors.New("test PostgreSQL is already stopped")
	}
	bin, cred, err := s.binariesAndUser()
	if err != nil {
		return err
	}
	stop := exec.Command(filepath.Join(bin, "pg_ctl"), "stop", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w")
	if out, err := run(stop, cred); err != nil {
		return fmt.Errorf("while running pg_ctl stop: %w\n%s", err, out)
	}
	// pg_ctl returns once the postmaster is gone; reap it, so Close and
	// StartAgain see it stopped.
	select {
	case <-s.exited:
	case <-time.After(time.Minute):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.cmd = nil
		return errors.New("postgres still running a minute after pg_ctl stop returned; killed")
	}
	s.cmd = nil
	return nil
}

// StartAgain starts a server that StopImmediate stopped, on the same data
// directory and port, so DSNs handed out before stay valid. It returns once
// the server accepts connections, that is after crash recovery.
func (s *Server) StartAgain() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if s.cmd != nil {
		return errors.New("test PostgreSQL is already running")
	}
	bin, cred, err := s.binariesAndUser()
	if err != nil {
		return err
	}
	return s.launchOn(bin, filepath.Join(s.dir, "data"), cred, s.port)
}

// usable tells why a server cannot be stopped or started again: it never
// started, its start failed, or it was closed.
func (s *Server) usable() error {
	if !s.started {
		return errors.New("test PostgreSQL was never started (ask it for a database first)")
	}
	return s.err
}
