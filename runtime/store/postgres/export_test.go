package postgres

// MigrateLockKey lets the tests check, from another session, that Migrate
// gave the lock back.
const MigrateLockKey = migrateLockKey

// RecentEventsSQL is the statement Recent sends, for the plan test.
const RecentEventsSQL = recentEventsSQL

// The statements Feed and Due send, for the plan test.
const (
	FeedSQL     = feedSQL
	FeedPlanSQL = feedPlanSQL
	DueSQL      = dueSQL
)

// The statements ForgetRawIPs and OrderConversion send, for the plan test.
const (
	ForgetRawIPsSQL    = forgetRawIPsSQL
	OrderConversionSQL = orderConversionSQL
)

// The statements Totals and Series send, for the plan test.
var (
	TotalsSQL = dialect.TotalsSQL
	SeriesSQL = dialect.SeriesSQL
)

// ExportPageSQL builds the statement of an export page, for the plan test.
var ExportPageSQL = dialect.ExportPageSQL
