// Package hack holds the scripts that set a machine up and run the tests;
// this test runs them for real, as root and as another user, with the
// PostgreSQL and Chromium they look for hidden (their probe locations point
// into empty directories) and apt-get replaced by a recorder, so nothing is
// installed on the machine running it.
package hack

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nobody is the unprivileged user the non-root cases run as when the test
// itself runs as root.
const nobody = "65534"

// machine is a fake set of system locations: probe paths for the script,
// a PATH directory whose apt-get, sudo and useradd record their calls, and a sysroot
// for the files the script writes while installing.
type machine struct {
	dir, bin, sysroot, calls string
	pgGlob, chromium, driver string
}

func newMachine(t *testing.T) *machine {
	t.Helper()
	// Readable by the unprivileged user, and the call log writable by it.
	dir, err := os.MkdirTemp("", "trackstack-setup-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := &machine{
		dir:      dir,
		bin:      filepath.Join(dir, "bin"),
		sysroot:  filepath.Join(dir, "root"),
		calls:    filepath.Join(dir, "calls"),
		pgGlob:   filepath.Join(dir, "postgresql", "*", "bin"),
		chromium: filepath.Join(dir, "chromium", "chromium"),
		driver:   filepath.Join(dir, "chromium", "chromedriver"),
	}
	for _, d := range []string{m.bin, m.sysroot, filepath.Dir(m.chromium)} {
		mkdir(t, d)
	}
	writeFile(t, m.calls, "", 0o666)
	// The fakes: sudo, useradd and apt-get log their arguments. apt-get "install"
	// puts the packages' files where the script looks, and logs whether
	// policy-rc.d was in place (forbidding service starts) at that moment.
	for _, name := range []string{"sudo", "useradd"} {
		writeFile(t, filepath.Join(m.bin, name), "#!/bin/sh\necho \""+name+" $*\" >>"+m.calls+"\n", 0o755)
	}
	// getent knows no postgres user when FAKE_NO_POSTGRES_USER is set.
	realGetent, err := exec.LookPath("getent")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(m.bin, "getent"), `#!/bin/sh
[ -n "$FAKE_NO_POSTGRES_USER" ] && [ "$2" = postgres ] && exit 2
exec `+realGetent+` "$@"
`, 0o755)
	writeFile(t, filepath.Join(m.bin, "apt-get"), `#!/bin/bash
echo "apt-get $*" >>`+m.calls+`
[[ "$1" == install ]] || exit 0
[[ -x "`+m.sysroot+`/usr/sbin/policy-rc.d" ]] && echo "policy-rc.d in place" >>`+m.calls+`
[[ -n "$FAKE_APT_BROKEN" ]] && exit 0
for p in "$@"; do
  case "$p" in
  postgresql) mkdir -p "`+m.dir+`/postgresql/17/bin" && touch "`+m.dir+`/postgresql/17/bin/"{initdb,postgres} && chmod +x "`+m.dir+`/postgresql/17/bin/"* ;;
  chromium) printf '#!/bin/sh\necho Chromium 999\n' >"`+m.chromium+`" && chmod +x "`+m.chromium+`" ;;
  chromium-driver) touch "`+m.driver+`" && chmod +x "`+m.driver+`" ;;
  esac
done
`, 0o755)
	return m
}

// installPostgres and installChromium put what the packages provide where
// the script looks.
func (m *machine) installPostgres(t *testing.T) {
	d := filepath.Join(m.dir, "postgresql", "16", "bin")
	mkdir(t, d)
	writeFile(t, filepath.Join(d, "initdb"), "", 0o755)
	writeFile(t, filepath.Join(d, "postgres"), "", 0o755)
}

func (m *machine) installChromium(t *testing.T) {
	writeFile(t, m.chromium, "#!/bin/sh\necho Chromium 1\n", 0o755)
	writeFile(t, m.driver, "", 0o755)
}

// env is the environment the scripts run with: the test's own, minus an
// outer make test's phase state, plus the fake locations.
func (m *machine) env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHASES_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{
		"PATH=" + m.bin + ":" + os.Getenv("PATH"),
		"TRACKSTACK_PG_BIN_GLOB=" + m.pgGlob,
		"TRACKSTACK_CHROMIUM=" + m.chromium,
		"TRACKSTACK_CHROMEDRIVER=" + m.driver,
		"TRACKSTACK_SYSROOT=" + m.sysroot,
	}, extra...)...)
}

func (m *machine) recordedCalls(t *testing.T) string {
	b, err := os.ReadFile(m.calls)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// run runs a command as root or as an unprivileged user, whichever the test
// asks for, whoever runs the test: root drops to nobody with setpriv; a
// non-root user becomes root in a user namespace of its own (unshare), which
// is all the script checks (id -u) and cannot touch the real system.
func run(t *testing.T, asRoot bool, env []string, name string, args ...string) (string, int) {
	t.Helper()
	switch isRoot := os.Geteuid() == 0; {
	case asRoot && !isRoot:
		args = append([]string{"--map-root-user", "--", name}, args...)
		name = "unshare"
	case !asRoot && isRoot:
		args = append([]string{"--reuid=" + nobody, "--regid=" + nobody, "--clear-groups", "--", name}, args...)
		name = "setpriv"
	}
	cmd := exec.Command(name, args...)
	cmd.Env = env
	cmd.Dir = "/" // readable by anyone
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	default:
		t.Fatalf("running %s %v: %v\n%s", name, args, err, out)
		return "", -1
	}
}

func scriptPath(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// MkdirAll honours the umask; the unprivileged user must enter.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func wantContains(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func wantLacks(t *testing.T, out string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(out, w) {
			t.Errorf("output has %q:\n%s", w, out)
		}
	}
}
