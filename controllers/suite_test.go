package controllers

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// The envtest suite runs the reconcilers against a real kube-apiserver and
// etcd (built by hack/build-envtest-bins.sh). There is no
// kube-controller-manager: nothing rolls Deployments out or garbage-collects
// children, so tests mark rollouts done themselves (rollouts) and assert
// owner references instead of waiting for garbage collection.
var (
	testEnv    *envtest.Environment
	testCfg    *rest.Config
	k8sClient  client.Client
	testScheme = k8sruntime.NewScheme()
	op         *operator
	rollouts   = newRolloutSimulator()
)

// envtestSkipReason is why an envtest test skips under go test -short
// (`make test SHORT=1`), the one case in which the control plane is not
// started; without -short a control plane that cannot start fails the suite.
const envtestSkipReason = "needs the envtest control plane (kube-apiserver, etcd): left out by go test -short; make test runs it"

// requireEnvtest skips tb under go test -short, where TestMain started no
// control plane. Every test that talks to the API server calls it, most
// through newNamespace.
func requireEnvtest(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip(envtestSkipReason)
	}
}

func TestMain(m *testing.M) {
	utilruntime.Must(clientgoscheme.AddToScheme(testScheme))
	utilruntime.Must(v1alpha1.AddToScheme(testScheme))
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(false), zap.Level(zapLevel())))
	flag.Parse() // for testing.Short
	if testing.Short() {
		os.Exit(m.Run())
	}
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		dir := filepath.Join("..", "bin", "k8s", "1.37.2-"+runtime.GOOS+"-"+runtime.GOARCH)
		if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err == nil {
			os.Setenv("KUBEBUILDER_ASSETS", dir)
		}
	}
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// The default /24 service range holds 254 Services; the scale benchmark
	// needs two per site.
	testEnv.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", "10.96.0.0/16")
	var err error
	testCfg, err = testEnv.Start()
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting envtest (run `make envtest-bins`, or `make test`): %v\n", err)
		os.Exit(1)
	}
	k8sClient, err = client.New(testCfg, client.Options{Scheme: testScheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go rollouts.run(ctx, k8sClient)
	op, err = startOperator(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	op.stop()
	cancel()
	_ = testEnv.Stop()
	os.Exit(code)
}

func zapLevel() zapcore.Level {
	if os.Getenv("TEST_VERBOSE") != "" {
		return zapcore.DebugLevel
	}
	return zapcore.ErrorLevel
}

// ctrlConfigForTests lets a test start a second operator in this process
// (controller names are otherwise unique per process).
func ctrlConfigForTests() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}

// operator is a running manager with our reconcilers, as main.go builds it.
type operator struct {
	stopOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
	// writes counts the mutating requests the operator sent to the API server.
	writes atomic.Int64
	mu     sync.Mutex
	// writeLog keeps the last mutating requests, for failure messages.
	writeLog []string
}

// startOperator starts a manager configured like main.go, as the suite's admin.
func startOperator(parent context.Context) (*operator, error) {
	return startOperatorWith(parent, suiteIdentity)
}

// suiteIdentity keeps the suite's admin identity.
func suiteIdentity(cfg *rest.Config) *rest.Config { return cfg }

// startOperatorWith starts the operator on a rest config derived from the
// suite's (e.g. another user's), with the manager options changed by tweaks.
func startOperatorWith(parent context.Context, identity func(*rest.Config) *rest.Config, tweaks ...func(*ctrl.Options)) (*operator, error) {
	o := &operator{done: make(chan struct{})}
	cfg := identity(rest.CopyConfig(testCfg))
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &writeCounter{next: rt, op: o} })
	opts := ctrl.Options{
		Scheme:     testScheme,
		Metrics:    metricsserver.Options{BindAddress: "0"},
		Cache:      CacheOptions(nil),
		Client:     ClientOptions(),
		Controller: ctrlConfigForTests(),
	}
	for _, tweak := range tweaks {
		tweak(&opts)
	}
	mgr, err := ctrl.NewManager(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	ctx, cancel := context.WithCancel(parent)
	o.cancel = cancel
	if err := Setup(ctx, mgr, Options{RuntimeImage: "example.test/trackstack:test"}, NewMetrics(prometheus.NewRegistry())); err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(o.done)
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "manager stopped:", err)
		}
	}()
	return o, nil
}

func (o *operator) stop() {
	o.stopOnce.Do(func() {
		o.cancel()
		<-o.done
	})
}

// writeCounter counts mutating requests on the operator's connection.
type writeCounter struct {
	next http.RoundTripper
	op   *operator
}

func (w *writeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		w.op.writes.Add(1)
		w.op.mu.Lock()
		w.op.writeLog = append(w.op.writeLog, req.Method+" "+req.URL.Path)
		if len(w.op.writeLog) > 50 {
			w.op.writeLog = w.op.writeLog[1:]
		}
		w.op.mu.Unlock()
	}
	return w.next.RoundTrip(req)
}

// rolloutSimulator plays the Deployment controller for namespaces that ask
// for it: it marks every Deployment there as rolled out.
type rolloutSimulator struct {
	mu         sync.Mutex
	namespaces map[string]bool
}

func newRolloutSimulator() *rolloutSimulator {
	return &rolloutSimulator{namespaces: map[string]bool{}}
}

// auto turns simulation on for a namespace.
func (s *rolloutSimulator) auto(ns string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.namespaces[ns] = true
}

func (s *rolloutSimulator) enabled(ns string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.namespaces[ns]
}

// run plays the Deployment controller with a watch (a manager of its own,
// on a connection not counted as the operator's), so it costs the API
// server no more than the real controller would.
func (s *rolloutSimulator) run(ctx context.Context, c client.Client) {
	mgr, err := ctrl.NewManager(testCfg, ctrl.Options{
		Scheme: testScheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Controller: ctrlConfigForTests(),
	})
	if err != nil {
		panic(err)
	}
	err = ctrl.NewControllerManagedBy(mgr).For(&appsv1.Deployment{}).Named("fake-deployment-controller").
		WithOptions(controller.Options{MaxConcurrentReconciles: 4}).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			if !s.enabled(req.Namespace) {
				return reconcile.Result{}, nil
			}
			var d appsv1.Deployment
			if err := mgr.GetClient().Get(ctx, req.NamespacedName, &d); err != nil {
				return reconcile.Result{}, client.IgnoreNotFound(err)
			}
			if deploymentWaiting(&d) == "" {
				return reconcile.Result{}, nil
			}
			return reconcile.Result{}, client.IgnoreNotFound(markRolledOut(ctx, c, &d))
		}))
	if err != nil {
		panic(err)
	}
	_ = mgr.Start(ctx)
}

// markRolledOut writes the status the Deployment controller would write once
// the current template runs on every replica.
func markRolledOut(ctx context.Context, c client.Client, d *appsv1.Deployment) error {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	d.Status = appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           want, UpdatedReplicas: want, ReadyReplicas: want, AvailableReplicas: want,
		Conditions: []appsv1.DeploymentCondition{{
			Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue,
			Reason: "MinimumReplicasAvailable", LastUpdateTime: metav1.Now(), LastTransitionTime: metav1.Now(),
		}},
	}
	return c.Status().Update(ctx, d)
}

// forbiddenCounter records requests the API server answered 403.
type forbiddenCounter struct {
	mu   sync.Mutex
	reqs []string
}

func (f *forbiddenCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err == nil && resp.StatusCode == http.StatusForbidden {
			f.mu.Lock()
			f.reqs = append(f.reqs, req.Method+" "+req.URL.Path)
			f.mu.Unlock()
		}
		return resp, err
	})
}

func (f *forbiddenCounter) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
