package store

import "github.com/trackstack/trackstack/runtime/event"

// SuppressedSet answers whether an event belongs to a suppressed person:
// one of its visitor id, user id or email digest is on the site's
// suppression list. Whatever brings events into the store from outside
// (the collector, an import) checks it, so an erased person who asked not
// to be tracked again does not come back.
type SuppressedSet struct {
	keys map[Suppression]bool
}

// NewSuppressedSet builds the set of a site's suppressions.
func NewSuppressedSet(list []Suppression) *SuppressedSet {
	s := &SuppressedSet{keys: make(map[Suppression]bool, len(list))}
	for _, k := range list {
		s.keys[k] = true
	}
	return s
}

// Suppressed reports whether e carries a suppressed key. A nil set, as
// for a site whose list was never read, suppresses nothing.
func (s *SuppressedSet) Suppressed(e *event.Event) bool {
	if s == nil || len(s.keys) == 0 {
		return false
	}
	return e.VisitorID != "" && s.keys[Suppression{Kind: KeyVisitorID, KeyHash: SuppressionHash(e.VisitorID)}] ||
		e.UserID != "" && s.keys[Suppression{Kind: KeyUserID, KeyHash: SuppressionHash(e.UserID)}] ||
		e.User.EmailSHA256 != "" && s.keys[Suppression{Kind: KeyEmail, KeyHash: e.User.EmailSHA256}]
}
