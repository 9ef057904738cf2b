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
		PhoneE164SHA256: SHA256Hex("+16505551212"),
		FirstNameSHA256: "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
		CountrySHA256:   SHA256Hex("us"),
	}
	if got != want {
		t.Fatalf("HashUser() = %+v\nwant %+v", got, want)
	}
}

// TestHashUserPlatformVariants checks the hashes taken for the platforms
// whose normalization differs from Meta's, on the platforms' own examples.
func TestHashUserPlatformVariants(t *testing.T) {
	tests := []struct {
		name                   string
		in                     RawUser
		email, google          string // normalized forms; google "" = no separate hash
		phoneDigits, phoneE164 string
	}{
		{name: "gmail dots and tag", in: RawUser{Email: "Jo.E.Smith+promo@Gmail.com"},
			email: "jo.e.smith+promo@gmail.com", google: "joesmith@gmail.com"},
		{name: "data manager gmail", in: RawUser{Email: "cloudy.sanfrancisco+shopping@gmail.com"},
			email: "cloudy.sanfrancisco+shopping@gmail.com", google: "cloudysanfrancisco@gmail.com"},
		{name: "googlemail dots", in: RawUser{Email: " a.b@GoogleMail.com"},
			email: "a.b@googlemail.com", google: "ab@googlemail.com"},
		{name: "other domain unchanged", in: RawUser{Email: "user.name+NYC@Example.com"},
			email: "user.name+nyc@example.com"},
		{name: "gmail already plain", in: RawUser{Email: "John_Smith@gmail.com"},
			email: "john_smith@gmail.com"},
		{name: "gmail subdomain is not gmail", in: RawUser{Email: "a.b@mail.gmail.com"},
			email: "a.b@mail.gmail.com"},
		{name: "data manager phone", in: RawUser{Phone: "(800)555-0100", Country: "us"},
			phoneDigits: "18005550100", phoneE164: "+18005550100"},
		{name: "fast path phone", in: RawUser{Phone: "+49 151 23456789"},
			phoneDigits: "4915123456789", phoneE164: "+4915123456789"},
		{name: "00 prefix phone", in: RawUser{Phone: "0044 20 7946 0958"},
			phoneDigits: "442079460958", phoneE164: "+442079460958"},
	}
	hash := func(s string) string {
		if s == "" {
			return ""
		}
		return SHA256Hex(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HashUser(tt.in)
			if got.EmailSHA256 != hash(tt.email) || got.EmailGoogleSHA256 != hash(tt.google) {
				t.Errorf("email hashes = %s, %s; want hashes of %q, %q", got.EmailSHA256, got.EmailGoogleSHA256, tt.email, tt.google)
			}
			if got.PhoneSHA256 != hash(tt.phoneDigits) || got.PhoneE164SHA256 != hash(tt.phoneE164) {
				t.Errorf("phone hashes = %s, %s; want hashes of %q, %q", got.PhoneSHA256, got.PhoneE164SHA256, tt.phoneDigits, tt.phoneE164)
			}
		})
	}
}

func TestHashUserClientDigests(t *testing.T) {
	em, emG, ph, phE := strings.Repeat("a", 64), strings.Repeat("B", 64), strings.Repeat("c", 64), strings.Repeat("D", 64)
	tests := []struct {
		name string
		in   RawUser
		want event.User
	}{
		{"all digests", RawUser{Email: em, EmailGoogle: emG, Phone: ph, PhoneE164: phE},
			event.User{EmailSHA256: em, EmailGoogleSHA256: strings.ToLower(emG), PhoneSHA256: ph, PhoneE164SHA256: strings.ToLower(phE)}},
		{"digest without variant", RawUser{Email: em, Phone: ph},
			event.User{EmailSHA256: em, PhoneSHA256: ph}},
		{"google equal to common is dropped", RawUser{Email: em, EmailGoogle: strings.ToUpper(em)},
			event.User{EmailSHA256: em}},
		{"raw value wins over a sent variant", RawUser{Email: "a.b@gmail.com", EmailGoogle: emG, Phone: "+16505551212", PhoneE164: phE},
			event.User{EmailSHA256: SHA256Hex("a.b@gmail.com"), EmailGoogleSHA256: SHA256Hex("ab@gmail.com"),
				PhoneSHA256: SHA256Hex("16505551212"), PhoneE164SHA256: SHA256Hex("+16505551212")}},
		{"variant alone", RawUser{PhoneE164: phE}, event.User{PhoneE164SHA256: strings.ToLower(phE)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HashUser(tt.in); got != tt.want {
				t.Fatalf("HashUser() = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestValidateDigests(t *testing.T) {
	tests := []struct {
		in   RawUser
		want string
	}{
		{RawUser{}, ""},
		{RawUser{Email: "raw@x.com", EmailGoogle: strings.Repeat("f", 64), PhoneE164: strings.Repeat("F", 64)}, ""},
		{RawUser{EmailGoogle: "joesmith@gmail.com"}, "em_google"},
		{RawUser{PhoneE164: "+16505551212"}, "ph_e164"},
		{RawUser{EmailGoogle: strings.Repeat("g", 64)}, "em_google"},
	}
	for _, tt := range tests {
		t.Run(tt.in.EmailGoogle+tt.in.PhoneE164, func(t *testing.T) {
			if got := ValidateDigests(tt.in); got != tt.want {
				t.Fatalf("ValidateDigests() = %q, want %q", got, tt.want)
			}
		})
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
