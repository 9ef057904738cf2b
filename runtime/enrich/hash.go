package enrich

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/trackstack/trackstack/runtime/event"
)

// RawUser is matching data as a client sent it: each field either a raw value
// or an already computed SHA-256 hex digest.
type RawUser struct {
	Email     string
	Phone     string
	FirstName string
	LastName  string
	City      string
	Zip       string
	// Country is an ISO 3166-1 alpha-2 code. Raw, it also tells which
	// country calling code a phone number without one belongs to.
	Country string

	// EmailGoogle and PhoneE164 are digests a client computed itself with
	// Google's email and the E.164 phone normalization (event.User's
	// em_google and ph_e164). They must be SHA-256 hex digests (see
	// ValidateDigests) and count only where the raw value is not at hand.
	EmailGoogle string
	PhoneE164   string
}

// ValidateDigests reports the first of the digest-only fields of u that is
// set but not a SHA-256 hex digest, as its protocol name ("em_google",
// "ph_e164"); "" when all are fine. Such a field cannot be normalized and
// hashed like the others: a raw value there would be a client bug.
func ValidateDigests(u RawUser) string {
	if v := strings.TrimSpace(u.EmailGoogle); v != "" && !IsSHA256Hex(v) {
		return "em_google"
	}
	if v := strings.TrimSpace(u.PhoneE164); v != "" && !IsSHA256Hex(v) {
		return "ph_e164"
	}
	return ""
}

// HashUser normalizes and hashes every raw field of u and passes digests
// through (lower-cased), so the stored event.User holds no raw personal data.
// A raw value that normalizes to nothing (an "email" without @, a phone
// number with too few digits) is dropped rather than hashed: a hash of
// garbage only pollutes matching.
//
// The common normalization follows Meta's rules, which Pinterest shares:
// email trimmed and lower-cased; phone as digits with the country code and no
// "+"; names lower-cased without punctuation; city lower-cased without spaces
// or punctuation; zip lower-cased without spaces or dashes (US: first five
// digits); country as lower-case ISO-2. Where another platform normalizes
// differently, the other hash is taken too while the raw value is in memory,
// since it cannot be derived from a hash later: the email after Google's
// rules (EmailGoogleSHA256, only when that differs) and the phone in E.164
// with "+" (PhoneE164SHA256, for Google and TikTok). A field sent as a digest
// has no such variant unless the client sent it too (u.EmailGoogle,
// u.PhoneE164; call ValidateDigests first).
func HashUser(u RawUser) event.User {
	country := NormalizeCountry(u.Country)
	out := event.User{
		FirstNameSHA256: hashField(u.FirstName, NormalizeName),
		LastNameSHA256:  hashField(u.LastName, NormalizeName),
		CitySHA256:      hashField(u.City, NormalizeCity),
		ZipSHA256:       hashField(u.Zip, func(s string) string { return NormalizeZip(s, country) }),
		CountrySHA256:   hashField(u.Country, NormalizeCountry),
	}
	out.EmailSHA256, out.EmailGoogleSHA256 = hashEmail(u.Email, u.EmailGoogle)
	out.PhoneSHA256, out.PhoneE164SHA256 = hashPhone(u.Phone, u.PhoneE164, country)
	return out
}

// hashEmail returns the common and the Google digest of an email (raw or
// digest); the Google one is "" where it equals the common one.
func hashEmail(email, googleDigest string) (common, google string) {
	// A digest has no "@", so it never normalizes as an address.
	if n := NormalizeEmail(email); n != "" {
		common = SHA256Hex(n)
		if g := GoogleEmail(n); g != n {
			google = SHA256Hex(g)
		}
		return common, google
	}
	common, google = digestOnly(email), digestOnly(googleDigest)
	if google == common {
		google = ""
	}
	return common, google
}

// hashPhone returns the Meta (digits) and the E.164 digest of a phone
// number (raw or digest), normalizing a raw one once for both.
func hashPhone(phone, e164Digest, country string) (digits, e164 string) {
	phone = strings.TrimSpace(phone)
	if phone == "" || IsSHA256Hex(phone) {
		return digestOnly(phone), digestOnly(e164Digest)
	}
	d := NormalizePhone(phone, country)
	if d == "" {
		return "", digestOnly(e164Digest)
	}
	return SHA256Hex(d), SHA256Hex("+" + d)
}

// digestOnly returns v lower-cased when it is a SHA-256 hex digest, else "".
func digestOnly(v string) string {
	v = strings.TrimSpace(v)
	if !IsSHA256Hex(v) {
		return ""
	}
	return strings.ToLower(v)
}

// GoogleEmail applies Google's extra rules to an email NormalizeEmail
// already trimmed and lower-cased: for gmail.com and googlemail.com the dots
// and any "+tag" of the local part go ("jo.e.smith+promo@gmail.com" →
// "joesmith@gmail.com"), as Gmail itself ignores them. Other domains are
// left as they are: there dots and tags may name different mailboxes.
func GoogleEmail(normalized string) string {
	at := strings.LastIndexByte(normalized, '@')
	if at < 0 {
		return normalized
	}
	local, domain := normalized[:at], normalized[at+1:]
	if domain != "gmail.com" && domain != "googlemail.com" {
		return normalized
	}
	if plus := strings.IndexByte(local, '+'); plus >= 0 {
		local = local[:plus]
	}
	local = strings.ReplaceAll(local, ".", "")
	if local == "" {
		return normalized
	}
	return local + "@" + domain
}

// hashField returns v lower-cased when it already is a SHA-256 hex
// digest, else the digest of normalize(v) ("" when that is empty).
func hashField(v string, normalize func(string) string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if IsSHA256Hex(v) {
		return strings.ToLower(v)
	}
	n := normalize(v)
	if n == "" {
		return ""
	}
	return SHA256Hex(n)
}

// SHA256Hex returns the lower-case hex SHA-256 digest of s.
func SHA256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// IsSHA256Hex reports whether s looks like a SHA-256 hex digest (64 hex
// digits, either case). Such a value is passed through, never hashed twice.
func IsSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// NormalizeEmail trims and lower-cases an email address; "" when it has no
// "@" with something on both sides.
func NormalizeEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n") {
		return ""
	}
	return s
}

// NormalizePhone returns the number as digits with the country calling code,
// without "+" or leading zeros ("16505551212"). A number without "+" or "00"
// is read as a national number of country (ISO-2), so "(650) 555-1212" with
// country "us" and "0151 23456789" with "de" both work; the national trunk
// prefix is dropped. Without a country such a number is taken to already
// start with its calling code. Fewer than 7 digits yield "".
func NormalizePhone(s, country string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if d, ok := plainInternational(s); ok {
		return d
	}
	region := strings.ToUpper(country)
	if strings.HasPrefix(s, "+") {
		region = ""
	}
	if region != "" || strings.HasPrefix(s, "+") {
		if num, err := phonenumbers.Parse(s, region); err == nil && phonenumbers.IsPossibleNumber(num) {
			return strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
		}
	}
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; '0' <= c && c <= '9' {
			digits = append(digits, c)
		}
	}
	d := strings.TrimLeft(string(digits), "0")
	if len(d) < 7 || len(d) > 15 {
		return ""
	}
	return d
}

// plainInternational is the fast path of NormalizePhone for the form most
// backends send: "+", a calling code, and the national number, maybe grouped
// by spaces, dashes or dots ("+4915123456789", "+1 650 555 1212"). There the
// digits are libphonenumber's answer, at a fraction of its cost (its parse
// runs several regular expressions, tens of µs a number), unless the
// national number starts with a prefix libphonenumber strips (a trunk 0, the
// 1 of NANP numbers, Russia's 8, carrier codes). So the fast path is taken
// only for calling codes whose strippable leading digits are known, listed in
// fastCallingCodes, and national numbers not starting with one of them;
// anything else takes the full parse.
// TestPlainInternationalAgreesWithLibphonenumber holds both to one answer.
func plainInternational(s string) (string, bool) {
	if len(s) < 2 || s[0] != '+' {
		return "", false
	}
	var buf [15]byte
	digits := buf[:0]
	sep := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if len(digits) == cap(digits) {
				return "", false
			}
			digits = append(digits, c)
			sep = false
		case (c == ' ' || c == '-' || c == '.') && !sep && len(digits) > 0:
			sep = true
		default:
			return "", false
		}
	}
	if sep || len(digits) < 8 {
		return "", false
	}
	for n := 1; n <= 3; n++ {
		if strip, ok := fastCallingCodes[string(digits[:n])]; ok {
			if strings.IndexByte(strip, digits[n]) >= 0 {
				return "", false
			}
			return string(digits), true
		}
	}
	return "", false
}

// fastCallingCodes maps the calling codes plainInternational handles to the
// leading digits of a national number that libphonenumber may strip.
var fastCallingCodes = map[string]string{
	"1":   "01", // NANP: trunk prefix 1; no area code starts with 0 or 1
	"7":   "08", // Russia, Kazakhstan: trunk prefix 8
	"31":  "0",  // Netherlands
	"32":  "0",  // Belgium
	"33":  "0",  // France
	"41":  "0",  // Switzerland
	"43":  "0",  // Austria
	"44":  "0",  // United Kingdom
	"46":  "0",  // Sweden
	"49":  "0",  // Germany
	"64":  "0",  // New Zealand
	"81":  "0",  // Japan
	"91":  "0",  // India
	"353": "0",  // Ireland
	"358": "0",  // Finland
}

// NormalizeName lower-cases a first or last name, removes punctuation and
// symbols, and keeps letters of every script.
func NormalizeName(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r):
			return -1
		case unicode.IsSpace(r):
			return ' '
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s)))
}

// NormalizeCity lower-cases a city and removes spaces and punctuation
// ("New York" → "newyork").
func NormalizeCity(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// NormalizeZip lower-cases a postal code and removes spaces and dashes; US
// codes keep their first five digits ("94103-1234" → "94103").
func NormalizeZip(s, country string) string {
	z := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
	if country == "us" && len(z) > 5 {
		z = z[:5]
	}
	return z
}

// NormalizeCountry returns a lower-case ISO 3166-1 alpha-2 code, or "" when s
// is not two ASCII letters.
func NormalizeCountry(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 2 || s[0] < 'a' || s[0] > 'z' || s[1] < 'a' || s[1] > 'z' {
		return ""
	}
	return s
}

// EmailDigest is the digest an email is stored and looked up by: a 64-hex
// digest is taken as is, anything else is normalized (NormalizeEmail) and
// hashed. ok is false for something that is neither an address nor a
// digest.
func EmailDigest(email string) (digest string, ok bool) {
	if IsSHA256Hex(email) {
		return strings.ToLower(email), true
	}
	n := NormalizeEmail(email)
	if n == "" {
		return "", false
	}
	return SHA256Hex(n), true
}
