package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/trackstack/trackstack/api/v1alpha1"
)

// fakeClient is an in-memory client (no API server) holding objs.
func fakeClient(t *testing.T, funcs *interceptor.Funcs, objs ...client.Object) client.WithWatch {
	t.Helper()
	scheme := k8sruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...)
	if funcs != nil {
		b = b.WithInterceptorFuncs(*funcs)
	}
	return b.Build()
}

// TestErrorToCondition follows each kind of failure from the code that
// produces it in a reconcile, through runSteps and outcomeOf, to the
// conditions written and whether the reconcile is retried. No API server:
// the steps read an in-memory client.
func TestErrorToCondition(t *testing.T) {
	ctx := context.Background()
	site := testSite(nil)
	foreignConfigMap := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "shop-runtime", Namespace: "web"}}
	apiDown := &interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
		return apierrors.NewServiceUnavailable("etcd is unreachable")
	}}
	applyConfigMap := func(c client.Client) error {
		a := &applier{client: c, reader: c, fieldManager: TrackingSiteFieldManager}
		_, err := applyChild(ctx, a, site, types.NamespacedName{Namespace: "web", Name: "shop-runtime"},
			&corev1.ConfigMap{}, corev1ac.ConfigMap("shop-runtime", "web"), corev1ac.ExtractConfigMap)
		return err
	}
	cases := []struct {
		name string
		step func() error
		// want: Ready's status and reason, Stalled/Reconciling present as
		// True, the reconcile returning the error (retry), and a message part.
		ready                metav1.ConditionStatus
		reason               string
		stalled, reconciling bool
		retried              bool
		message              string
	}{
		{"storage Secret missing", func() error {
			_, err := checkSecretKeys(ctx, fakeClient(t, nil), "web", "pg", []string{"uri"})
			return fmt.Errorf("storage: %w", err)
		}, metav1.ConditionFalse, v1alpha1.ReasonSecretNotFound, true, false, false,
			"storage: Secret pg not found in namespace web; create it with key(s) uri"},
		{"credentials key missing", func() error {
			s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "meta-capi", Namespace: "web"},
				Data: map[string][]byte{"accessToken": nil, "other": []byte("x")}}
			_, err := checkSecretKeys(ctx, fakeClient(t, nil, s), "web", "meta-capi", []string{"accessToken"})
			return fmt.Errorf("credentials for meta: %w", err)
		}, metav1.ConditionFalse, v1alpha1.ReasonSecretKeyMissing, true, false, false,
			"credentials for meta: Secret meta-capi has no key accessToken (or it is empty); add it"},
		{"child name taken by someone else", func() error {
			return applyConfigMap(fakeClient(t, nil, foreignConfigMap))
		}, metav1.ConditionFalse, v1alpha1.ReasonInvalidOwnership, true, false, false,
			"ConfigMap shop-runtime exists and is not owned by this object; rename or delete it"},
		{"site not found", func() error {
			_, err := getReferencedSite(ctx, fakeClient(t, nil), "web", "shop")
			return err
		}, metav1.ConditionFalse, v1alpha1.ReasonSiteNotFound, true, false, false,
			"TrackingSite shop not found in namespace web; create it or fix spec.siteRef"},
		{"CronJob name too long", func() error {
			return checkRetentionName("a-site-name-of-thirty-chars-xx", "and-a-long-policy-nm")
		}, metav1.ConditionFalse, v1alpha1.ReasonNameTooLong, true, false, false,
			"over the limit of 52; use shorter names"},
		{"API server unavailable", func() error {
			return applyConfigMap(fakeClient(t, apiDown))
		}, metav1.ConditionFalse, v1alpha1.ReasonApplyFailed, false, true, true,
			"reading *v1.ConfigMap shop-runtime: etcd is unreachable"},
		{"apply refused", func() error {
			return fmt.Errorf("applying Deployment shop-collector: %w",
				apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "shop-collector", errors.New("quota")))
		}, metav1.ConditionFalse, v1alpha1.ReasonApplyFailed, false, true, true, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			found, returned := runSteps(ctx, []func(context.Context) error{func(context.Context) error { return tc.step() }})
			if found == nil {
				t.Fatal("the step did not fail")
			}
			if retried := returned != nil; retried != tc.retried {
				t.Errorf("retried = %v, want %v (error %v)", retried, tc.retried, found)
			}
			o, ok := outcomeOf(found)
			if !ok {
				t.Fatal("outcomeOf gave no outcome for an error")
			}
			st := &v1alpha1.ObjectStatus{ObservedGeneration: -1}
			setConditions(st, 7, o)
			if st.ObservedGeneration != 7 {
				t.Errorf("observedGeneration = %d, want 7", st.ObservedGeneration)
			}
			r := meta.FindStatusCondition(st.Conditions, v1alpha1.ReadyCondition)
			if r == nil || r.Status != tc.ready || r.Reason != tc.reason {
				t.Fatalf("Ready = %+v, want %s %s", r, tc.ready, tc.reason)
			}
			if !strings.Contains(r.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", r.Message, tc.message)
			}
			if got := meta.IsStatusConditionTrue(st.Conditions, v1alpha1.StalledCondition); got != tc.stalled {
				t.Errorf("Stalled = %v, want %v", got, tc.stalled)
			}
			if got := meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ReconcilingCondition); got != tc.reconciling {
				t.Errorf("Reconciling = %v, want %v", got, tc.reconciling)
			}
		})
	}
	if o, ok := outcomeOf(nil); ok {
		t.Errorf("outcomeOf(nil) = %+v, want none", o)
	}
}

// TestSetConditionsKstatusShapes checks every outcome state, also those a
// pass concludes without an error, starting from another shape so that
// conditions are removed as well as set.
func TestSetConditionsKstatusShapes(t *testing.T) {
	cases := []struct {
		o                             outcome
		ready                         metav1.ConditionStatus
		reconciling, stalledCondition bool
	}{
		{ready("Succeeded", "ok"), metav1.ConditionTrue, false, false},
		{progressing("Progressing", "rolling"), metav1.ConditionUnknown, true, false},
		{stalled("SecretNotFound", "create it"), metav1.ConditionFalse, false, true},
		{failed("ApplyFailed", "retrying"), metav1.ConditionFalse, true, false},
		{degraded("DestinationNotReady", "dest"), metav1.ConditionFalse, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.o.reason, func(t *testing.T) {
			st := &v1alpha1.ObjectStatus{ObservedGeneration: -1}
			setConditions(st, 3, stalled("X", "x"))
			setConditions(st, 3, progressing("Y", "y"))
			setConditions(st, 4, tc.o)
			if st.ObservedGeneration != 4 {
				t.Errorf("observedGeneration = %d", st.ObservedGeneration)
			}
			if readyStatus(st) != tc.ready {
				t.Errorf("Ready = %s, want %s", readyStatus(st), tc.ready)
			}
			if meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ReconcilingCondition) != tc.reconciling ||
				meta.IsStatusConditionTrue(st.Conditions, v1alpha1.StalledCondition) != tc.stalledCondition {
				t.Errorf("conditions = %+v", st.Conditions)
			}
			want := 1
			if tc.reconciling || tc.stalledCondition {
				want = 2
			}
			if len(st.Conditions) != want {
				t.Errorf("%d conditions, want %d: %+v", len(st.Conditions), want, st.Conditions)
			}
		})
	}
}
