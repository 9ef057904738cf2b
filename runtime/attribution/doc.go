// Package attribution shares each conversion's credit among the touchpoints
// that led to it. It is pure computation: journeys in, credit rows out, no
// store, no clock, no I/O.
//
// # Input
//
// A Journey is one visitor's touches (channel, utm source, utm campaign,
// time) and conversions (time, value). Touches may come in any order and from
// several devices merged by the caller; the package sorts a copy by time.
// Ties in time are broken by channel, source and campaign, so the result
// never depends on input order.
//
// Journeys without conversions matter only to DataDriven, whose chain counts
// the paths that led nowhere; the other models credit the same without them
// (UsesUnconverted). A caller with many of them can hand them to
// AttributeAll as an Unconverted: a compact table of steps, the same
// journeys without a Touch per touchpoint.
//
// Refunds are not conversions: a Conversion's Value must be finite and
// between 0 and event.MaxAbsValue, anything else is an error. A refund lowers
// revenue elsewhere (the dashboard's revenue figures), never a channel's credit.
//
// # Window
//
// Each conversion is attributed on its own, from the touches in its lookback
// window: those at times in (conversion−window, conversion]. A touch at the
// very instant of the conversion counts; one exactly a window earlier does
// not. Windows are 1, 7, 30 or 90 days. Two conversions in one journey each
// see their own window, so one touch may earn credit from both.
//
// # Keys
//
// Credit goes to the touch's value in the chosen Dimension (channel, source
// or campaign). A touch with an empty value in that dimension is credited to
// NoneKey, "(none)". A conversion with no touch in its window is credited
// whole to NoTouchKey, "(direct)", in every dimension, so nothing is lost.
//
// # Models
//
//   - FirstTouch, LastTouch: everything to the oldest or newest touch.
//   - LastNonDirect: everything to the newest touch whose channel is not
//     direct (an empty channel counts as direct); if every touch is direct,
//     to the newest touch.
//   - Linear: equal shares.
//   - TimeDecay: touch i weighs 2^(−Δtᵢ/HalfLife), Δtᵢ the conversion time
//     minus the touch time; shares are the weights normalized to 1. HalfLife
//     defaults to 7 days.
//   - PositionBased: one touch gets 100%, two get 50% each; with n ≥ 3 the
//     first and last get 40% each and the n−2 middle touches share 20%
//     equally.
//   - DataDriven: see DataDriven.
//
// # Conservation
//
// For every model the rows add up exactly to the number of conversions and to
// the revenue. Each conversion's value is first taken to the cent; credit is
// accumulated per key as real numbers of cents and of nano-conversions, then
// turned into integers with one largest-remainder step (floors, then one unit
// each to the keys with the largest fractional parts, ties by key) that hits
// the integer totals exactly. Revenue is the cents divided by 100 and
// Conversions the nano-units divided by 10⁹, so the sums are exact to the
// cent and to 1e-9 of a conversion. Total revenue of one call is limited to
// 2^53 cents (about 90 trillion), where float64 stops counting cents exactly;
// more is an error. Rows whose credit rounds to zero in both columns are left
// out. Rows are ordered by conversions, then revenue, descending, then key.
package attribution
