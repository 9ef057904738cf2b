package store

import (
	"context"
	"time"
)

// Attribution stitches a visitor to the user it signs in as. Within a
// read's range, a visitor whose events carry a user id is that user: its
// events without a user id (the visit before signing in, the ad click
// days earlier on the same device) belong to the user of its earliest
// event with one (by received_at, then seq). Events with a user id stay
// that user's, so a shared device's second user keeps their own
// conversions. The rule looks at the range only, so a read is the same
// whether it comes from rollups or raw events.
//
// The candidates of a read come from blobs and raw events in any mix;
// each part also gives its identities: per visitor, its first event with
// a user id there (touch blobs hold those of their hour). The builder
// keeps the earliest per visitor and stitches once all are in.

// identitiesSQL selects, for the events that match where, each visitor's
// first event that carries a user id (per UTC hour with byHour, whose rows
// then start with the hour in microseconds), as rows of rawTouch with at,
// seq, visitor and user set, and with numbered their rollup numbers when
// they have one.
func (d *AnalyticsDialect) identitiesSQL(where string, byHour, numbered bool) string {
	number, userNumber := rollupNumbers(numbered)
	hour, partition, outer := d.hourParts(byHour)
	return `SELECT ` + outer + `, seq, visitor_id, user_id, ` + number + `, ` + userNumber + ` FROM (
    SELECT ` + hour + d.Micros("e.received_at") + ` AS at, e.seq AS seq, e.site AS site, e.visitor_id AS visitor_id, e.user_id AS user_id,
           row_number() OVER (PARTITION BY ` + partition + `e.visitor_id ORDER BY e.received_at, e.seq) AS n
    FROM events e WHERE (` + where + `) AND e.visitor_id IS NOT NULL AND e.user_id IS NOT NULL
) e WHERE n = 1
ORDER BY ` + outer + `, seq`
}

// scanIdentity scans a row of identitiesSQL after its hour, if any.
func scanIdentity(scan func(...any) error, hour ...any) (rawTouch, error) {
	var r rawTouch
	err := scan(append(hour, &r.at, &r.seq, &r.visitor, &r.user, &r.number, &r.userNumber)...)
	return r, err
}

// readIdentities runs identitiesSQL over the pieces of q's range, each
// [lo, hi), and hands the identities to b. Filters do not apply: who a
// visitor is does not depend on which of its events a report looks at.
func readIdentities(ctx context.Context, query QueryFunc, d *AnalyticsDialect, q Query, pieces [][2]time.Time, numbered bool, b *touchSetBuilder) error {
	if len(pieces) == 0 {
		return nil
	}
	q.Filters = Filters{}
	p := &Params{d: d}
	return query(ctx, d.identitiesSQL(d.wherePieces(p, q, pieces), false, numbered), p.Args, func(scan func(...any) error) error {
		r, err := scanIdentity(scan)
		if err == nil {
			b.identifyRaw(r)
		}
		return err
	})
}

// identity is the earliest event with a user id seen of a visitor.
type identity struct {
	at, seq int64
	user    int32 // the user's person + 1; 0 for a visitor never signed in
}

// identify records that the visitor person signed in as the user person
// at (at, seq), unless it was seen signed in earlier.
func (b *touchSetBuilder) identify(visitor, user int32, at, seq int64) {
	if int(visitor) >= len(b.identities) {
		grown := make([]identity, max(int(visitor)+1, 2*len(b.identities), 1024))
		copy(grown, b.identities)
		b.identities = grown
	}
	cur := &b.identities[visitor]
	if cur.user != 0 && (cur.at < at || cur.at == at && cur.seq < seq) {
		return
	}
	*cur = identity{at: at, seq: seq, user: user + 1}
}

// identifyRaw records an identity row of identitiesSQL.
func (b *touchSetBuilder) identifyRaw(r rawTouch) {
	visitor := b.personOfRaw(rawTouch{visitor: r.visitor, number: r.number})
	user := b.personOfRaw(rawTouch{user: r.user, userNumber: r.userNumber})
	b.identify(visitor, user, r.at, r.seq)
}

// identifyBlob records an identity of a blob.
func (b *touchSetBuilder) identifyBlob(id *blobIdentity) {
	var visitor, user int32
	if id.flags&blobVisitorNumber != 0 {
		visitor = b.personByNumber(&b.byNumber, id.visitorNumber)
	} else {
		visitor = b.personByID(b.visitors, id.visitor)
	}
	if id.flags&blobUserNumber != 0 {
		user = b.personByNumber(&b.byUserNumber, id.userNumber)
	} else {
		user = b.personByID(b.users, id.user)
	}
	b.identify(visitor, user, id.at, id.seq)
}

// stitch moves the points of each identified visitor to its user, and
// numbers the people of the points again in order of first appearance
// (people seen only in identities drop out).
func (b *touchSetBuilder) stitch() {
	if len(b.identities) == 0 {
		return // nobody signed in: people are numbered as they appeared
	}
	final := make([]int32, b.set.People) // a person's final number + 1
	for visitor, id := range b.identities {
		if id.user != 0 {
			final[visitor] = -id.user // resolved below, before any use
		}
	}
	people := int32(0)
	for i := range b.set.Points {
		p := &b.set.Points[i]
		who := p.Person
		if f := final[who]; f < 0 {
			who = -f - 1
		}
		if final[who] == 0 {
			// A user is never a visitor, so it is never redirected.
			people++
			final[who] = people
		}
		p.Person = final[who] - 1
	}
	b.set.People = int(people)
}
