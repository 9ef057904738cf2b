package store

import (
	"bytes"
	"testing"

	"github.com/trackstack/trackstack/runtime/event"
)

// TestSupersedeKeepsDigestsTogether: the browser's matching data fills what
// the server lacks, but an email's (or a phone's) digests never mix the
// server's address with the browser's.
func TestSupersedeKeepsDigestsTogether(t *testing.T) {
	browser := event.Event{
		Source: event.SourceBrowser, RawIPSealed: []byte{1, 2, 3},
		User: event.User{EmailSHA256: "b-em", EmailGoogleSHA256: "b-em-google", PhoneSHA256: "b-ph", PhoneE164SHA256: "b-ph-e164"},
	}
	t.Run("server without matching data takes the browser's", func(t *testing.T) {
		got := Supersede(event.Event{Source: event.SourceServer}, browser)
		if got.User != browser.User || !bytes.Equal(got.RawIPSealed, browser.RawIPSealed) {
			t.Fatalf("got %+v %v, want the browser's user data and sealed IP", got.User, got.RawIPSealed)
		}
	})
	t.Run("server with its own email and phone keeps them whole", func(t *testing.T) {
		server := event.Event{Source: event.SourceServer, RawIPSealed: []byte{9},
			User: event.User{EmailSHA256: "s-em", PhoneSHA256: "s-ph", PhoneE164SHA256: "s-ph-e164"}}
		got := Supersede(server, browser)
		want := event.User{EmailSHA256: "s-em", PhoneSHA256: "s-ph", PhoneE164SHA256: "s-ph-e164"}
		if got.User != want || !bytes.Equal(got.RawIPSealed, []byte{9}) {
			t.Fatalf("got %+v %v, want the server's digests only (no browser Google variant) and its own sealed IP", got.User, got.RawIPSealed)
		}
	})
}
