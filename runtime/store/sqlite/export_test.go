package sqlite

// TotalsSQL is the statement Totals sends, for the plan test.
var TotalsSQL = dialect.TotalsSQL
