package store

import (
	"testing"

	"github.com/trackstack/trackstack/runtime/event"
)

func TestSuppressedSet(t *testing.T) {
	const digest = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	set := NewSuppressedSet([]Suppression{
		{Kind: KeyVisitorID, KeyHash: SuppressionHash("v-gone")},
		{Kind: KeyUserID, KeyHash: SuppressionHash("u-gone")},
		{Kind: KeyEmail, KeyHash: digest},
	})
	tests := []struct {
		name string
		e    event.Event
		want bool
	}{
		{"suppressed visitor", event.Event{VisitorID: "v-gone"}, true},
		{"suppressed user on another device", event.Event{VisitorID: "v-new", UserID: "u-gone"}, true},
		{"suppressed email", event.Event{User: event.User{EmailSHA256: digest}}, true},
		{"someone else", event.Event{VisitorID: "v-other", UserID: "u-other"}, false},
		{"a visitor id that is a suppressed user id", event.Event{VisitorID: "u-gone"}, false},
		{"no ids", event.Event{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := set.Suppressed(&tt.e); got != tt.want {
				t.Errorf("Suppressed = %v, want %v", got, tt.want)
			}
		})
	}
	if NewSuppressedSet(nil).Suppressed(&event.Event{VisitorID: "v-gone"}) {
		t.Error("an empty set suppresses")
	}
	if (*SuppressedSet)(nil).Suppressed(&event.Event{VisitorID: "v-gone"}) {
		t.Error("a nil set suppresses")
	}
}
