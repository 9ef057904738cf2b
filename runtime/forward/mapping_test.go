package forward

import (
	"testing"

	"github.com/trackstack/trackstack/api/v1alpha1"
	"github.com/trackstack/trackstack/runtime/event"
)

func TestMapping(t *testing.T) {
	val := func(v float64) *float64 { return &v }
	purchase := event.Event{Type: event.TypeConversion, Name: "purchase", Value: val(120)}
	small := event.Event{Type: event.TypeConversion, Name: "purchase", Value: val(20)}
	lead := event.Event{Type: event.TypeConversion, Name: "lead"}
	page := event.Event{Type: event.TypePageview, Name: "pageview"}
	custom := event.Event{Type: event.TypeCustom, Name: "purchase_click"}
	defaults := map[string]string{"purchase": "Purchase", "lead": "Lead"}

	tests := []struct {
		name   string
		events []v1alpha1.EventMapping
		ev     event.Event
		want   string
		ok     bool
	}{
		{"default purchase", nil, purchase, "Purchase", true},
		{"default lead", nil, lead, "Lead", true},
		{"default ignores page views", nil, page, "", false},
		{"explicit replaces defaults", []v1alpha1.EventMapping{{Match: "lead", SendAs: "SubmitForm"}}, purchase, "", false},
		{"explicit name", []v1alpha1.EventMapping{{Match: "lead", SendAs: "SubmitForm"}}, lead, "SubmitForm", true},
		{"star takes conversions", []v1alpha1.EventMapping{{Match: "*", SendAs: "Sale"}}, lead, "Sale", true},
		{"star ignores other types", []v1alpha1.EventMapping{{Match: "*", SendAs: "Sale"}}, custom, "", false},
		{"first rule wins", []v1alpha1.EventMapping{{Match: "purchase", SendAs: "Big"}, {Match: "*", SendAs: "Sale"}}, purchase, "Big", true},
		{"min value met", []v1alpha1.EventMapping{{Match: "purchase", SendAs: "Big sale", MinValue: "100"}}, purchase, "Big sale", true},
		{"min value not met", []v1alpha1.EventMapping{{Match: "purchase", SendAs: "Big sale", MinValue: "100"}}, small, "", false},
		{"min value without value", []v1alpha1.EventMapping{{Match: "lead", SendAs: "L", MinValue: "1"}}, lead, "", false},
		{"min value falls through", []v1alpha1.EventMapping{{Match: "purchase", SendAs: "Big", MinValue: "100"}, {Match: "purchase", SendAs: "Sale"}}, small, "Sale", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMapping(tt.events, defaults, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := m.SendAs(&tt.ev)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("SendAs = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestMappingRejectsBadMinValue(t *testing.T) {
	if _, err := NewMapping([]v1alpha1.EventMapping{{Match: "a", SendAs: "b", MinValue: "ten"}}, nil, nil); err == nil {
		t.Fatal("minValue \"ten\" accepted")
	}
}

func TestConsentMissing(t *testing.T) {
	m, _ := NewMapping(nil, nil, []string{"ad_user_data", "ad_personalization"})
	for _, tt := range []struct {
		c    event.Consent
		want string
	}{
		{event.Consent{AdUserData: event.Granted, AdPersonalization: event.Granted}, ""},
		{event.Consent{AdUserData: event.Granted, AdPersonalization: event.Denied}, "consent ad_personalization denied"},
		{event.Consent{AdPersonalization: event.Granted}, "consent ad_user_data not signalled"},
	} {
		e := event.Event{Consent: tt.c}
		if got := m.ConsentMissing(&e); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.c, got, tt.want)
		}
	}
}
