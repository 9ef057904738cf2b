package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
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
	bin, err := binDir(s.binGlob)
	if err != nil {
		return err
	}
	cred, err := credential()
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
	bin, err := binDir(s.binGlob)
	if err != nil {
		return err
	}
	cred, err := credential()
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

// launchOn starts postgres on data and port and waits until it accepts
// connections. Unlike launch it keeps the port it is given, which another
// process may have taken meanwhile: then the start fails with the server's
// log.
func (s *Server) launchOn(bin, data string, cred *syscall.Credential, port int) error {
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("while opening the server log: %w", err)
	}
	defer logFile.Close()
	// As in launch: our child, so Pdeathsig stops it with the test binary.
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories="+s.dir,
		"-c", "max_connections=200",
		"-c", "log_min_messages=warning",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("while starting postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited, s.port = cmd, exited, port

	// Crash recovery comes first; connections are refused until it ends.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-exited:
			s.cmd = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited during start on port %d:\n%s", port, log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			s.cmd = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within 2 minutes: %w\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
