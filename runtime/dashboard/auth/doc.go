// Package auth signs people into a site's dashboard and keeps everyone else
// out.
//
// # Credentials
//
// The site's <site>-keys Secret holds adminPassword, the password the
// operator generated for the site's owner to read (kubectl get secret). The
// dashboard process reads that file once, at start, keeps only an argon2id
// hash of it and drops the plaintext: every comparison goes through the
// hash, so a heap dump of the dashboard does not reveal the password.
//
// Sign-in is either the form at GET/POST /login (user "admin" and that
// password), OpenID Connect at GET /login/oidc when the site configures an
// issuer, or, for scripts, HTTP basic auth as user admin on every request.
// Wrong passwords are counted per client address by runtime/throttle: a
// client that failed too often is refused with 429 and Retry-After, right
// password or not, until its allowance refills.
//
// An Authenticator is the sign-in of one site. A Guard (NewGuard) puts the
// Authenticators of every site a dashboard serves behind one set of routes
// (GET and POST /login, POST /logout, GET /login/oidc and
// /login/oidc/callback, the site named by the field "site") and gives
// Require(site, next) to the dashboard. Behind an Ingress, pass
// Options.ClientIP a function that believes the ingress controller's
// X-Forwarded-For: otherwise every client shares the controller's address
// and one guesser throttles everyone.
//
// # Sessions
//
// A sign-in creates a server-side session (random 256-bit id, the site,
// the actor, a CSRF token) and sets the cookie ts_session to
// "v1.<site>.<id>.<expiry>.<mac>" (the site base64url), HMAC-SHA256 over everything before the
// MAC with a key derived from the site's signingKey for this purpose alone
// (HMAC(signingKey, "dashboard-session")), so a visitor cookie, signed with
// the signingKey itself, can never pass as a session. The cookie is Secure
// (off only for plain-http localhost), HttpOnly, Path=/ and SameSite=Lax:
// Strict would drop the cookie on the redirect back from an OIDC issuer and
// on every link into the dashboard from mail or chat, while Lax already
// withholds it from cross-site POSTs, which the CSRF check refuses anyway.
//
// A session ends after 12 hours without a request or 7 days after sign-in,
// whichever comes first, or at logout. The table is in memory and bounded
// (DefaultMaxSessions); when full, the least recently used session is
// dropped. A restart signs everyone out, which is the price of keeping no
// session state outside the process.
//
// A session belongs to one site: the site is in the signed cookie and in
// the server-side session, and both must equal the Authenticator's site.
// Where several sites share a host (standalone), Options.SharedHost names
// the cookies per site (ts_session_<site>), so signing into one site does
// not sign out of another and no cookie of site A is ever accepted by B:
// each site also has its own signing key.
//
// # CSRF
//
// GET and HEAD never change state. Every other method needs both an Origin
// (or, lacking one, Referer) equal to the dashboard's own origin and the
// session's synchronizer token, in the form field csrf_token or the header
// X-CSRF-Token (CSRFToken gives it to pages). The login form, used before
// any session exists, carries a token bound to a short-lived signed cookie
// instead. Basic-auth requests carry no token: the dashboard never sends a
// Basic challenge, so browsers never hold those credentials to send on
// their own; a cross-origin Origin is refused for them too.
//
// # Audit
//
// Sign-ins, failed sign-ins (form, basic auth and OIDC) and logouts are
// recorded through Audit with the actor ("admin" or the OIDC e-mail) and
// never a visitor's data. A script's basic-auth request that succeeds is
// not a sign-in and is not recorded: a script polling the API would bury
// the sign-ins people make.
package auth
