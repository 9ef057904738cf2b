// Package sealing encrypts small values the store must keep for a while but
// nobody may read from it: the raw client IP a forwarder sends to Meta and
// TikTok for matching, while the stored IP stays anonymized.
//
// The contract:
//
//   - A Key is 32 random bytes (AES-256), one per site, kept in the site's
//     generated keys (config.KeyIPSealing): the operator's <site>-keys Secret
//     or the standalone data directory. Its file holds the bytes as base64
//     (standard or URL alphabet, padded or not) or hex; anything that is not
//     32 bytes is an error.
//   - Seal returns version (1 byte) || nonce (12 random bytes) ||
//     AES-256-GCM(ciphertext+tag). The version byte names the key, so keys
//     can rotate: a later key takes another version, and Open tells which
//     key a sealed value needs. The version is authenticated with the data.
//   - Open returns the plaintext, or an error when the value is short,
//     sealed with another key or version, or altered in any byte. It never
//     returns unauthenticated data.
//   - A sealed value is 29 bytes plus the plaintext: 45 for an IPv6 address
//     of 16 characters, at most 68 for the longest textual IPv6 address.
//
// Sealing is not retention: whoever stores a sealed value deletes it as soon
// as it is no longer needed, since the key opens every value sealed with it.
package sealing
