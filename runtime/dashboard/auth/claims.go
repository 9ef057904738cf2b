package auth

import (
	"errors"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// oidcClaims are the ID-token claims admission looks at.
type oidcClaims struct {
	email    string
	verified bool
	groups   []string
}

func parseClaims(idt *oidc.IDToken, groupsClaim string) (oidcClaims, error) {
	var all map[string]any
	if err := idt.Claims(&all); err != nil {
		return oidcClaims{}, errors.New("unreadable ID token claims")
	}
	email, _ := all["email"].(string)
	return oidcClaims{email: strings.ToLower(email), verified: isTrue(all["email_verified"]), groups: stringList(all[groupsClaim])}, nil
}

// isTrue reads email_verified, which some issuers send as a string.
func isTrue(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// stringList reads a claim that is a list of strings or one string.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, g := range v {
			if s, ok := g.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// admit says why c may not sign in, or nil. A verified e-mail is always
// required: it is who the audit log says acted.
func (l *oidcLogin) admit(c oidcClaims) error {
	if c.email == "" || !c.verified {
		return errors.New("no verified e-mail in the ID token")
	}
	if slices.ContainsFunc(l.opts.AllowedEmails, func(e string) bool { return strings.EqualFold(e, c.email) }) {
		return nil
	}
	_, domain, _ := strings.Cut(c.email, "@")
	if slices.ContainsFunc(l.opts.AllowedDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
		return nil
	}
	for _, g := range c.groups {
		if slices.Contains(l.opts.AllowedGroups, g) {
			return nil
		}
	}
	return errors.New("not an allowed e-mail, domain or group")
}
