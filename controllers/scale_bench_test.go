package controllers

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// BenchmarkScale200Sites creates 200 TrackingSites, each with 2
// Destinations and a RetentionPolicy, and waits until all 800 objects are
// Ready. The operator runs as its own process (bin/manager built from
// main.go), so its memory is measured alone: peak RSS from /proc.
//
//	make bench BENCH_ARGS='-run ^$ -bench Scale200 -benchtime 1x ./controllers'
func BenchmarkScale200Sites(b *testing.B) {
	requireEnvtest(b)
	sites := 200
	if v, err := strconv.Atoi(os.Getenv("SCALE_SITES")); err == nil && v > 0 {
		sites = v
	}
	for i := 0; i < b.N; i++ {
		op.stop() // the in-process operator must not compete
		bin := buildManager(b)
		kubeconfig := writeKubeconfig(b)
		ns := fmt.Sprintf("scale-%d-%d", time.Now().Unix()%100000, i)
		g := NewWithT(b)
		ctx := context.Background()
		g.Expect(k8sClient.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		rollouts.auto(ns)
		for name, data := range map[string]map[string]string{
			"pg": {"uri": "postgres://db"}, "meta-capi": {"accessToken": "EAAB"}, "tg": {"botToken": "1:abc"},
		} {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
			g.Expect(k8sClient.Create(ctx, s)).To(Succeed())
		}

		cmd := exec.Command(bin, "--metrics-bind-address=0", "--health-probe-bind-address=0",
			"--kubeconfig="+kubeconfig, "--zap-log-level=error")
		cmd.Stderr = os.Stderr
		g.Expect(cmd.Start()).To(Succeed())
		b.Cleanup(func() { _ = cmd.Process.Kill() })
		peak := &rssSampler{pid: cmd.Process.Pid}
		stopSampling := peak.start()

		b.ResetTimer()
		start := time.Now()
		createScaleObjects(b, ns, sites)
		waitAllReady(b, ns, sites)
		elapsed := time.Since(start)
		b.StopTimer()

		stopSampling()
		hwm := peakRSS(cmd.Process.Pid)
		cpu := processCPUSeconds(cmd.Process.Pid)
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		b.ReportMetric(elapsed.Seconds(), "s-to-all-ready")
		b.ReportMetric(float64(max(hwm, peak.max()))/(1<<20), "MB-peak-rss")
		b.ReportMetric(cpu, "operator-cpu-s")
		b.Logf("%d sites + %d destinations + %d policies Ready in %s; operator peak RSS %.1f MB",
			sites, 2*sites, sites, elapsed.Round(time.Millisecond), float64(max(hwm, peak.max()))/(1<<20))
	}
}

// createScaleObjects creates the sites, destinations and policies concurrently.
func createScaleObjects(b *testing.B, ns string, sites int) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, sites)
	sem := make(chan struct{}, 16)
	for i := 0; i < sites; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("site-%03d", i)
			site := &v1alpha1.TrackingSite{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: siteSpec()}
			tg := &v1alpha1.Destination{
				ObjectMeta: metav1.ObjectMeta{Name: "alerts", Namespace: ns},
				Spec: v1alpha1.DestinationSpec{
					SiteRef: v1alpha1.LocalObjectReference{Name: name}, Type: v1alpha1.DestinationTelegram,
					CredentialsSecretRef: v1alpha1.LocalObjectReference{Name: "tg"},
					Telegram:             &v1alpha1.TelegramDestination{ChatID: "-100123"},
				},
			}
			tg.Name = name + "-alerts"
			objs := []client.Object{site, metaDestination(ns, name+"-meta", name, "meta-capi"), tg,
				retentionPolicy(ns, fmt.Sprintf("p%03d", i), name)}
			for _, o := range objs {
				if err := k8sClient.Create(ctx, o); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// waitAllReady polls until every trackstack object in ns is Ready=True.
func waitAllReady(b *testing.B, ns string, sites int) {
	ctx := context.Background()
	deadline := time.Now().Add(scaleDeadline())
	var notReady []string
	for time.Now().Before(deadline) {
		var s v1alpha1.TrackingSiteList
		var d v1alpha1.DestinationList
		var p v1alpha1.RetentionPolicyList
		in := client.InNamespace(ns)
		if k8sClient.List(ctx, &s, in) == nil && k8sClient.List(ctx, &d, in) == nil && k8sClient.List(ctx, &p, in) == nil {
			n := 0
			notReady = notReady[:0]
			check := func(kind, name string, st *v1alpha1.ObjectStatus, gen int64) {
				if readyCurrent(st, gen) {
					n++
				} else if len(notReady) < 5 {
					notReady = append(notReady, fmt.Sprintf("%s %s (gen %d, observed %d): %s", kind, name, gen, st.ObservedGeneration, readyMessage(st)))
				}
			}
			for i := range s.Items {
				check("TrackingSite", s.Items[i].Name, &s.Items[i].Status.ObjectStatus, s.Items[i].Generation)
			}
			for i := range d.Items {
				check("Destination", d.Items[i].Name, &d.Items[i].Status.ObjectStatus, d.Items[i].Generation)
			}
			for i := range p.Items {
				check("RetentionPolicy", p.Items[i].Name, &p.Items[i].Status.ObjectStatus, p.Items[i].Generation)
			}
			if n == 4*sites {
				return
			}
			if time.Now().Second()%15 == 0 {
				b.Logf("%d/%d Ready", n, 4*sites)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("not all %d objects Ready within 5 minutes; for example:\n%s", 4*sites, strings.Join(notReady, "\n"))
}

func readyCurrent(st *v1alpha1.ObjectStatus, gen int64) bool {
	return st.ObservedGeneration == gen && readyStatus(st) == metav1.ConditionTrue
}

// buildManager compiles main.go into a temp dir.
func buildManager(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "manager")
	cmd := exec.Command("go", "build", "-o", bin, "..")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("building the operator: %v", err)
	}
	return bin
}

// writeKubeconfig writes an admin kubeconfig for the envtest API server.
func writeKubeconfig(b *testing.B) string {
	user, err := testEnv.AddUser(envtest.User{Name: "scale-bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// rssSampler samples a process's resident memory.
type rssSampler struct {
	pid  int
	mu   sync.Mutex
	peak int64
}

func (s *rssSampler) start() (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if v := procStatusKB(s.pid, "VmRSS:") * 1024; v > 0 {
					s.mu.Lock()
					s.peak = max(s.peak, v)
					s.mu.Unlock()
				}
			}
		}
	}()
	return func() { close(done) }
}

func (s *rssSampler) max() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// peakRSS is the kernel's high-water mark of a process's resident memory.
func peakRSS(pid int) int64 { return procStatusKB(pid, "VmHWM:") * 1024 }

func procStatusKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, field) {
			v, _ := strconv.ParseInt(strings.Fields(strings.TrimPrefix(line, field))[0], 10, 64)
			return v
		}
	}
	return 0
}

// scaleDeadline bounds the wait (SCALE_DEADLINE, default 5m).
func scaleDeadline() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SCALE_DEADLINE")); err == nil {
		return d
	}
	return 5 * time.Minute
}

// processCPUSeconds is the user+system CPU time a process has used.
func processCPUSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // clock ticks (USER_HZ is 100 on Linux)
}
