package enrich

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"

	"github.com/trackstack/trackstack/runtime/event"
)

func TestHashUserMetaExamples(t *testing.T) {
	// Digests from Meta's own documentation (see shared platform notes).
	got := HashUser(RawUser{Email: " John_Smith@gmail.com ", Phone: "(650)555-1212", FirstName: "Mary", Country: "US"})
	want := event.User{
		EmailSHA256:     "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
		PhoneSHA256:     "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
		FirstNameSHA256: "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
		CountrySHA256:   SHA256Hex("us"),
	}
	if got != want {
		t.Fatalf("HashUser() = %+v\nwant %+v", got, want)
	}
}

func TestHashUserPassesDigestsThrough(t *testing.T) {
	digest := strings.Repeat("AB", 32)
	got := HashUser(RawUser{Email: digest, Phone: digest, City: digest})
	lower := strings.ToLower(digest)
	if got.EmailSHA256 != lower || got.PhoneSHA256 != lower || got.CitySHA256 != lower {
		t.Fatalf("digests were not passed through: %+v", got)
	}
}

func TestHashUserDropsGarbage(t *testing.T) {
	got := HashUser(RawUser{Email: "not-an-email", Phone: "12", Country: "Germany", FirstName: "!!!"})
	if !got.Empty() {
		t.Fatalf("garbage was hashed: %+v", got)
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"email trim lower", NormalizeEmail, "  Foo.Bar+x@Example.COM ", "foo.bar+x@example.com"},
		{"email no at", NormalizeEmail, "foo", ""},
		{"email at end", NormalizeEmail, "foo@", ""},
		{"email space inside", NormalizeEmail, "fo o@x.com", ""},
		{"phone us national", func(s string) string { return NormalizePhone(s, "us") }, "(650) 555-1212", "16505551212"},
		{"phone plus", func(s string) string { return NormalizePhone(s, "") }, "+1 650 555 1212", "16505551212"},
		{"phone 00 prefix", func(s string) string { return NormalizePhone(s, "") }, "0044 20 7946 0958", "442079460958"},
		{"phone de trunk zero", func(s string) string { return NormalizePhone(s, "de") }, "0151 23456789", "4915123456789"},
		{"phone uk trunk zero", func(s string) string { return NormalizePhone(s, "gb") }, "07700 900123", "447700900123"},
		{"phone plus ignores country", func(s string) string { return NormalizePhone(s, "de") }, "+1 (650) 555-1212", "16505551212"},
		{"phone digits no country", func(s string) string { return NormalizePhone(s, "") }, "16505551212", "16505551212"},
		{"phone too short", func(s string) string { return NormalizePhone(s, "") }, "12345", ""},
		{"name punctuation", NormalizeName, " O'Brien-Smith ", "obriensmith"},
		{"name unicode", NormalizeName, "Zoë", "zoë"},
		{"name two words", NormalizeName, "Mary Ann", "mary ann"},
		{"city", NormalizeCity, "New York", "newyork"},
		{"city punctuation", NormalizeCity, "St. Louis", "stlouis"},
		{"zip us", func(s string) string { return NormalizeZip(s, "us") }, "94103-1234", "94103"},
		{"zip uk", func(s string) string { return NormalizeZip(s, "gb") }, "SW1A 1AA", "sw1a1aa"},
		{"country", NormalizeCountry, " DE ", "de"},
		{"country name", NormalizeCountry, "Germany", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsSHA256Hex(t *testing.T) {
	tests := map[string]bool{
		strings.Repeat("a", 64): true,
		strings.Repeat("F", 64): true,
		strings.Repeat("a", 63): false,
		strings.Repeat("g", 64): false,
		"":                      false,
	}
	for in, want := range tests {
		if got := IsSHA256Hex(in); got != want {
			t.Errorf("IsSHA256Hex(%q) = %v", in, got)
		}
	}
}

func BenchmarkHashUser(b *testing.B) {
	u := RawUser{Email: "John_Smith@gmail.com", Phone: "(650)555-1212", FirstName: "John", LastName: "Smith", City: "Menlo Park", Zip: "94025", Country: "US"}
	b.ReportAllocs()
	for b.Loop() {
		HashUser(u)
	}
}

func FuzzHashUser(f *testing.F) {
	f.Add("a@b.c", "+1 650 555 1212", "Zoë", "us", "94103-1234")
	f.Add("", "0049 151 2345", "", "", "")
	f.Add("\xff@\xfe", "+", "'", "zz", " ")
	f.Fuzz(func(t *testing.T, email, phone, name, country, zip string) {
		u := HashUser(RawUser{Email: email, Phone: phone, FirstName: name, LastName: name, City: name, Zip: zip, Country: country})
		for _, h := range []string{u.EmailSHA256, u.PhoneSHA256, u.FirstNameSHA256, u.LastNameSHA256, u.CitySHA256, u.ZipSHA256, u.CountrySHA256} {
			if h != "" && (!IsSHA256Hex(h) || strings.ToLower(h) != h) {
				t.Fatalf("field is not a lower-case digest: %q", h)
			}
		}
	})
}

// TestPlainInternationalAgreesWithLibphonenumber: the fast path for
// "+<digits>" numbers gives what the full parse gives, over random numbers
// of every calling code it handles, grouped as backends send them.
func TestPlainInternationalAgreesWithLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	seps := []string{"", " ", "-", "."}
	// Several seeds over 50,000 numbers a code found the cases this list
	// excludes (Australia's carrier codes, for one); the fixed seed keeps the
	// suite repeatable.
	for _, code := range slices.Sorted(maps.Keys(fastCallingCodes)) {
		fast := 0
		for range 4000 {
			n := 6 + rng.IntN(9)
			var b strings.Builder
			b.WriteString("+" + code)
			sep := seps[rng.IntN(len(seps))]
			for i := 0; i < n; i++ {
				if sep != "" && i%(2+rng.IntN(3)) == 0 {
					b.WriteString(sep)
				}
				b.WriteByte(byte('0' + rng.IntN(10)))
			}
			in := b.String()
			got, ok := plainInternational(in)
			if !ok {
				continue
			}
			fast++
			if want := slowNormalizePhone(in); got != want {
				t.Errorf("%q: fast path %q, libphonenumber %q", in, got, want)
			}
		}
		if fast < 800 {
			t.Errorf("+%s: only %d of 4000 numbers took the fast path: the check says little", code, fast)
		}
	}
	for _, in := range []string{"+44 (0)20 7946 0958", "+49 0151 23456789", "+490151234567", "+39 06 1234 5678", "+1 650 555 1212 ext. 7",
		"+1--650 555 1212", "+11505551212", "+78123456789", "+1 650 555 1212 ", "+1234567", "+86 139 1234 5678"} {
		if d, ok := plainInternational(in); ok {
			t.Errorf("%q took the fast path (%q); it needs the full parse", in, d)
		}
	}
}

// slowNormalizePhone is NormalizePhone without its fast path.
func slowNormalizePhone(s string) string {
	if num, err := phonenumbers.Parse(s, ""); err == nil && phonenumbers.IsPossibleNumber(num) {
		return strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
	}
	digits := strings.Map(func(r rune) rune {
		if '0' <= r && r <= '9' {
			return r
		}
		return -1
	}, s)
	d := strings.TrimLeft(digits, "0")
	if len(d) < 7 || len(d) > 15 {
		return ""
	}
	return d
}

func BenchmarkNormalizePhone(b *testing.B) {
	for _, in := range []string{"+49 151 23456789", "+44 (0)20 7946 0958"} {
		b.Run(in, func(b *testing.B) {
			for b.Loop() {
				NormalizePhone(in, "")
			}
		})
	}
}
