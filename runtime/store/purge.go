package store

import "context"

// PurgeBatchSize is how many rows one purge statement deletes: small enough
// that each batch is a short transaction that never holds locks or WAL for
// long, large enough that a site of millions of events takes minutes.
const PurgeBatchSize = 5000

// SitePurger removes every row a site has in the store.
type SitePurger interface {
	// PurgeSite deletes all of the site's rows from every table, in batches
	// (never one huge transaction), and returns the rows removed per table.
	// Running it again after an interruption finishes the job.
	//
	// The tables are found at run time by their site column, so a table
	// added by a later migration is purged without being listed anywhere.
	// Every such table is in the result, with 0 when the site had no rows
	// in it. progress, when not nil, is called after each batch with the
	// table and the rows removed from it so far.
	PurgeSite(ctx context.Context, site string, progress func(table string, removed int64)) (map[string]int64, error)
}
