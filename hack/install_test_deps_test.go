package hack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckNamesWhatIsMissing: --check reports each missing package, by
// the Debian name to install, and nothing that is present.
func TestCheckNamesWhatIsMissing(t *testing.T) {
	script := scriptPath(t, "install-test-deps.sh")
	cases := []struct {
		name               string
		postgres, chromium bool // installed
		wantMissing        []string
		wantPresent        []string
	}{
		{name: "nothing missing", postgres: true, chromium: true,
			wantPresent: []string{"postgresql", "chromium", "chromium-driver"}},
		{name: "PostgreSQL missing", chromium: true,
			wantMissing: []string{"postgresql"}, wantPresent: []string{"chromium", "chromium-driver"}},
		{name: "Chromium missing", postgres: true,
			wantMissing: []string{"chromium", "chromium-driver"}, wantPresent: []string{"postgresql"}},
		{name: "both missing",
			wantMissing: []string{"postgresql", "chromium", "chromium-driver"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMachine(t)
			if tc.postgres {
				m.installPostgres(t)
			}
			if tc.chromium {
				m.installChromium(t)
			}
			out, code := run(t, os.Geteuid() == 0, m.env(), "bash", script, "--check")
			if want := map[bool]int{true: 0, false: 1}[len(tc.wantMissing) == 0]; code != want {
				t.Errorf("exit %d, want %d:\n%s", code, want, out)
			}
			missing := missingNames(out)
			for _, p := range tc.wantMissing {
				if !missing[p] {
					t.Errorf("%s not reported missing:\n%s", p, out)
				}
			}
			for _, p := range tc.wantPresent {
				if missing[p] {
					t.Errorf("%s reported missing, yet installed:\n%s", p, out)
				}
			}
			if calls := m.recordedCalls(t); calls != "" {
				t.Errorf("--check ran %q", calls)
			}
		})
	}
}

// missingNames parses the script's report: one indented line per package,
// "  name  not found: ...".
func missingNames(out string) map[string]bool {
	names := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 2 && strings.HasPrefix(l, "  ") && f[1] == "not" {
			names[f[0]] = true
		}
	}
	return names
}

// TestNonRootStopsWithTheCommand: as a user who cannot install, the script
// installs nothing, names each missing package and prints the exact
// command to run.
func TestNonRootStopsWithTheCommand(t *testing.T) {
	script := scriptPath(t, "install-test-deps.sh")
	m := newMachine(t)
	out, code := run(t, false, m.env(), "bash", script)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantContains(t, out, "sudo "+script+"\n", "apt-get install postgresql chromium chromium-driver")
	for _, p := range []string{"postgresql", "chromium", "chromium-driver"} {
		if !missingNames(out)[p] {
			t.Errorf("%s not named missing:\n%s", p, out)
		}
	}
	if calls := m.recordedCalls(t); calls != "" {
		t.Errorf("as non-root the script ran %q; it must only say what to run", calls)
	}
}

// TestMakeTestStopsFirstAsNonRoot: make test's first phase is the set-up,
// so a user without PostgreSQL and Chromium is told the command before
// anything slow starts: no envtest build, no vet, no go test.
func TestMakeTestStopsFirstAsNonRoot(t *testing.T) {
	script := scriptPath(t, "install-test-deps.sh")
	m := newMachine(t)
	m.installPostgres(t)
	// Should the set-up wrongly pass, the envtest build that follows must
	// fail at once rather than compile kube-apiserver: no such version, and
	// no module proxy to ask.
	env := m.env("SHORT=", "ENVTEST_DIR=/nonexistent", "K8S_VERSION=0.0.0-none", "ETCD_VERSION=0.0.0-none", "GOPROXY=off")
	out, code := run(t, false, env, "bash", scriptPath(t, "test.sh"))
	if code == 0 {
		t.Errorf("make test passed without Chromium:\n%s", out)
	}
	wantContains(t, out, "sudo "+script+"\n", "chromium-driver", "== make test timings", "packages")
	wantLacks(t, out, "== make test: envtest", "== make test: vet", "== make test: go test")
	if !strings.Contains(out, "FAILED (exit 1)") {
		t.Errorf("the timings do not show the packages phase failing:\n%s", out)
	}
}

// TestRootInstallsOnlyWhatIsMissing: as root the script hands apt-get the
// missing packages only, with service starts forbidden and no PostgreSQL
// cluster created, then finds them installed.
func TestRootInstallsOnlyWhatIsMissing(t *testing.T) {
	script := scriptPath(t, "install-test-deps.sh")
	m := newMachine(t)
	m.installPostgres(t)
	out, code := run(t, true, m.env(), "bash", script)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	calls := m.recordedCalls(t)
	wantContains(t, calls, "apt-get update", "policy-rc.d in place")
	var install string
	for _, l := range strings.Split(calls, "\n") {
		if strings.HasPrefix(l, "apt-get install") {
			install = l
		}
	}
	if !strings.HasSuffix(install, " chromium chromium-driver") || strings.Contains(install, "postgresql") {
		t.Errorf("apt-get call %q, want an install of chromium chromium-driver only", install)
	}
	if _, err := os.Stat(filepath.Join(m.sysroot, "usr/sbin/policy-rc.d")); !os.IsNotExist(err) {
		t.Errorf("policy-rc.d left in place after the install (stat: %v)", err)
	}
	conf, err := os.ReadFile(filepath.Join(m.sysroot, "etc/postgresql-common/createcluster.d/trackstack-tests.conf"))
	if err != nil || !strings.Contains(string(conf), "create_main_cluster = false") {
		t.Errorf("createcluster.d conf %q, %v: the package would create a cluster", conf, err)
	}
	wantContains(t, out, "Chromium: Chromium 999")
}

// TestRootFailsWhenInstallDidNotHelp: if apt-get succeeds yet the binaries
// are still not where the tests look, the set-up fails, naming them.
func TestRootFailsWhenInstallDidNotHelp(t *testing.T) {
	script := scriptPath(t, "install-test-deps.sh")
	m := newMachine(t)
	out, code := run(t, true, m.env("FAKE_APT_BROKEN=1"), "bash", script)
	if code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, out)
	}
	wantContains(t, out, "still missing", "postgresql", "chromium")
}

// TestPostgresUser: PostgreSQL refuses to run as root, so tests run as root
// start it as the postgres user; the set-up creates that user as root when
// it is missing, and never as anyone else.
func TestPostgresUser(t *testing.T) {
	script := scriptPath(t, "install-test-deps.sh")
	for _, asRoot := range []bool{true, false} {
		t.Run(map[bool]string{true: "root", false: "non-root"}[asRoot], func(t *testing.T) {
			m := newMachine(t)
			m.installPostgres(t)
			m.installChromium(t)
			out, code := run(t, asRoot, m.env("FAKE_NO_POSTGRES_USER=1"), "bash", script)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			calls := m.recordedCalls(t)
			created := strings.Contains(calls, "useradd --system --user-group") && strings.Contains(calls, " postgres\n")
			if created != asRoot {
				t.Errorf("postgres user created: %v, want %v; calls:\n%s", created, asRoot, calls)
			}
			if strings.Contains(calls, "apt-get") {
				t.Errorf("apt-get ran with everything installed:\n%s", calls)
			}
		})
	}
}
