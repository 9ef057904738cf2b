package e2e

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/controllers"
)

// binary builds the trackstack binary once per test run.
type binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func (b *binary) get(t *testing.T) string {
	t.Helper()
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "trackstack-e2e-")
		if b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "trackstack")
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			goBin = "go"
		}
		cmd := exec.Command(goBin, "build", "-o", b.path, "github.com/trackstack/trackstack/runtime/cmd/trackstack")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err: err, out: string(out)}
		}
	})
	if b.err != nil {
		t.Fatalf("building trackstack: %v", b.err)
	}
	return b.path
}

func (b *binary) cleanup() {
	if b.dir != "" {
		os.RemoveAll(b.dir)
	}
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// podFiles writes what the kubelet would mount for the pod's first
// container under root: ConfigMap and Secret volumes as one file per key
// (only the listed items when the volume lists some), emptyDirs as empty
// directories. objects holds the ConfigMaps' and Secrets' data by name.
func podFiles(t *testing.T, root string, pod *corev1ac.PodSpecApplyConfiguration, objects map[string]map[string][]byte) {
	t.Helper()
	volumes := map[string]corev1ac.VolumeApplyConfiguration{}
	for _, v := range pod.Volumes {
		volumes[*v.Name] = v
	}
	for _, m := range pod.Containers[0].VolumeMounts {
		v, ok := volumes[*m.Name]
		if !ok {
			t.Fatalf("volume mount %s has no volume", *m.Name)
		}
		dir := filepath.Join(root, *m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var source string
		var items []corev1ac.KeyToPathApplyConfiguration
		mode := os.FileMode(0o644)
		switch {
		case v.ConfigMap != nil:
			source, items = *v.ConfigMap.Name, v.ConfigMap.Items
			if v.ConfigMap.DefaultMode != nil {
				mode = os.FileMode(*v.ConfigMap.DefaultMode)
			}
		case v.Secret != nil:
			source, items = *v.Secret.SecretName, v.Secret.Items
			if v.Secret.DefaultMode != nil {
				mode = os.FileMode(*v.Secret.DefaultMode)
			}
		case v.EmptyDir != nil:
			continue
		default:
			t.Fatalf("volume %s: a kind this test does not mount", *m.Name)
		}
		data, ok := objects[source]
		if !ok {
			t.Fatalf("volume %s mounts %s, which the test does not have", *m.Name, source)
		}
		files := map[string][]byte{}
		if len(items) == 0 {
			for k, b := range data {
				files[k] = b
			}
		}
		for _, it := range items {
			b, ok := data[*it.Key]
			if !ok {
				t.Fatalf("volume %s mounts key %s of %s, which it lacks", *m.Name, *it.Key, source)
			}
			files[*it.Path] = b
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(dir, name), b, mode); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// podProcess is the runtime binary running on a pod's files.
type podProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	exited chan error
}

// collectProcess is `trackstack collect` running on a pod's files.
type collectProcess = podProcess

// startCollect renders site with the operator's builders, writes the
// collector pod's mounted files under a temp root (the storage Secret
// holding dsn) and starts the binary with the container's own arguments and
// environment, plus --root and a free --listen address.
func startCollect(t *testing.T, bin string, site *v1alpha1.TrackingSite, dsn string) (p *collectProcess, keys map[string][]byte) {
	t.Helper()
	return startCollectWith(t, bin, site, nil, dsn)
}

// startCollectWith is startCollect for a site with Destinations.
func startCollectWith(t *testing.T, bin string, site *v1alpha1.TrackingSite, dests []v1alpha1.Destination, dsn string) (p *collectProcess, keys map[string][]byte) {
	t.Helper()
	cmData, keys, err := controllers.RenderSiteObjects(site, dests, nil)
	if err != nil {
		t.Fatal(err)
	}
	pod := controllers.CollectorPodSpec(site, controllers.Options{RuntimeImage: "trackstack:e2e"})
	p = startPod(t, bin, "collector", pod, siteObjects(site, cmData, keys, dsn))
	p.waitReady(t)
	return p, keys
}

// siteObjects are the ConfigMap and Secrets a site's pods mount.
func siteObjects(site *v1alpha1.TrackingSite, cmData map[string]string, keys map[string][]byte, dsn string) map[string]map[string][]byte {
	ref := site.Spec.Storage.Postgres.SecretRef
	objects := map[string]map[string][]byte{
		controllers.RuntimeConfigMapName(site.Name): {},
		controllers.KeysSecretName(site.Name):       keys,
		ref.Name:                                    {ref.Key: []byte(dsn)},
	}
	for k, v := range cmData {
		objects[controllers.RuntimeConfigMapName(site.Name)][k] = []byte(v)
	}
	return objects
}

// startPod writes the pod's mounted files under a temp root and starts the
// binary with the first container's own arguments and environment, plus
// --root and a free --listen address. It does not wait for readiness.
func startPod(t *testing.T, bin, name string, pod *corev1ac.PodSpecApplyConfiguration, objects map[string]map[string][]byte) *podProcess {
	t.Helper()
	addr := freeAddr(t)
	cmd := podCommand(t, bin, pod, objects, "--listen="+addr)
	p := &podProcess{url: "http://" + addr, stderr: &lockedBuffer{}, exited: make(chan error, 1)}
	p.cmd = cmd
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s logs:\n%s", name, p.stderr.String())
		}
	})
	return p
}

// podCommand writes the pod's mounted files under a temp root and returns
// the command of its first container: its own arguments, then --root and
// extra, and its own environment with mounted paths under root.
func podCommand(t *testing.T, bin string, pod *corev1ac.PodSpecApplyConfiguration, objects map[string]map[string][]byte, extra ...string) *exec.Cmd {
	t.Helper()
	root := t.TempDir()
	podFiles(t, root, pod, objects)
	c := pod.Containers[0]
	args := append(slices.Clone(c.Args), "--root", root)
	args = append(args, extra...)
	var env []string
	for _, e := range c.Env {
		v := *e.Value
		for _, m := range c.VolumeMounts {
			if v == *m.MountPath || strings.HasPrefix(v, *m.MountPath+"/") {
				v = path.Join(root, v)
				break
			}
		}
		env = append(env, *e.Name+"="+v)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env // nothing from the test's environment
	return cmd
}

// waitReady waits until /readyz answers 200.
func (p *podProcess) waitReady(t *testing.T) {
	t.Helper()
	p.waitStatus(t, "/readyz", http.StatusOK)
}

// waitStatus waits until path answers status, failing if the process exits.
func (p *podProcess) waitStatus(t *testing.T, path string, status int) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(p.url + path)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == status {
				return string(body)
			}
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("process exited before %s answered %d: %v\n%s", path, status, err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d: %v\n%s", path, status, err, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitLog waits until the process has logged text, failing if it exits:
// a process may answer a probe before it writes the log line about the
// same event.
func (p *podProcess) waitLog(t *testing.T, text string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(p.stderr.String(), text) {
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("process exited before logging %q: %v\n%s", text, err, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %q:\n%s", text, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer safe for a process writing while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
